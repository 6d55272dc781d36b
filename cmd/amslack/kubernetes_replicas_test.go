package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	k8syamlutil "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/amslack/amslack/cmd/internal/config"
)

// kubernetesDir holds the Kubernetes examples. The kubectl commands in
// their comments are run from there.
var kubernetesDir = filepath.Join("..", "..", "examples", "kubernetes")

// kubeKinds are the types of the objects that the examples hold, by
// apiVersion and kind. A kind missing here fails the check, so that no
// document goes unchecked.
var kubeKinds = map[string]func() metav1.Object{
	"v1 ConfigMap":                            func() metav1.Object { return new(corev1.ConfigMap) },
	"v1 Secret":                               func() metav1.Object { return new(corev1.Secret) },
	"v1 Service":                              func() metav1.Object { return new(corev1.Service) },
	"apps/v1 Deployment":                      func() metav1.Object { return new(appsv1.Deployment) },
	"apps/v1 StatefulSet":                     func() metav1.Object { return new(appsv1.StatefulSet) },
	"policy/v1 PodDisruptionBudget":           func() metav1.Object { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1 Ingress":            func() metav1.Object { return new(networkingv1.Ingress) },
	"networking.k8s.io/v1 NetworkPolicy":      func() metav1.Object { return new(networkingv1.NetworkPolicy) },
	"monitoring.coreos.com/v1 ServiceMonitor": func() metav1.Object { return new(serviceMonitor) },
	"monitoring.coreos.com/v1 PrometheusRule": func() metav1.Object { return new(prometheusRule) },
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) that the examples use. The operator's types
// are not a dependency of amslack; a field the examples start to use is
// added here, with the name the operator's CRD gives it.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path,omitempty"`
			Interval string `json:"interval,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// prometheusRule is the part of the Prometheus Operator's PrometheusRule
// (monitoring.coreos.com/v1) that the examples use; see serviceMonitor.
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for,omitempty"`
				Labels      map[string]string `json:"labels,omitempty"`
				Annotations map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// kubeObject is one document of a manifest file, decoded into its type.
type kubeObject struct {
	file string // relative to kubernetesDir
	kind string
	obj  metav1.Object
}

func (o kubeObject) String() string {
	return fmt.Sprintf("%s: %s %s", o.file, o.kind, o.obj.GetName())
}

// readManifests decodes every document of the manifest file name, taken
// from kubernetesDir, the way kubectl and the API server do: kubectl splits
// the YAML stream and turns each document into JSON with YAML 1.1 scalars
// (an unquoted yes is a boolean), and the API server decodes the JSON into
// the kind's type, case-sensitively, refusing unknown and duplicate fields
// (kubectl's default --validate=strict). Values are then checked as the
// API server checks every object's metadata.
func readManifests(name string) ([]kubeObject, error) {
	b, err := os.ReadFile(filepath.Join(kubernetesDir, name))
	if err != nil {
		return nil, err
	}
	var objs []kubeObject
	r := k8syamlutil.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		o, err := decodeManifest(doc)
		if err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", name, n, err)
		}
		if o.obj != nil {
			o.file = name
			objs = append(objs, o)
		}
	}
}

// decodeManifest decodes one document; one that holds only comments gives
// an empty kubeObject.
func decodeManifest(doc []byte) (kubeObject, error) {
	j, err := sigsyaml.YAMLToJSONStrict(doc)
	if err != nil {
		return kubeObject{}, err
	}
	if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
		return kubeObject{}, nil
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(j, &tm); err != nil {
		return kubeObject{}, err
	}
	newObj, ok := kubeKinds[tm.APIVersion+" "+tm.Kind]
	if !ok {
		return kubeObject{}, fmt.Errorf("apiVersion %q kind %q is not one that the check knows: add its type to kubeKinds", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	strict, err := sigsjson.UnmarshalStrict(j, obj, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return kubeObject{}, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	if len(strict) > 0 {
		return kubeObject{}, fmt.Errorf("%s: %w", tm.Kind, errors.Join(strict...))
	}
	nameFn := apivalidation.NameIsDNSSubdomain
	if tm.Kind == "Service" {
		nameFn = apivalidation.NameIsDNS1035Label
	}
	meta := &metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace(), Labels: obj.GetLabels(), Annotations: obj.GetAnnotations()}
	if errs := apivalidation.ValidateObjectMeta(meta, true, nameFn, field.NewPath("metadata")); len(errs) > 0 {
		return kubeObject{}, fmt.Errorf("%s %s: %w", tm.Kind, meta.Name, errs.ToAggregate())
	}
	return kubeObject{kind: tm.Kind, obj: obj}, nil
}

// manifestFiles returns the YAML files under kubernetesDir, relative to it.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(kubernetesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yml" && filepath.Ext(p) != ".yaml") {
			return err
		}
		rel, err := filepath.Rel(kubernetesDir, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	files := manifestFiles(t)
	if !slices.Contains(files, "amslack.yml") || !slices.Contains(files, "replicas/deployment.yml") {
		t.Fatalf("manifests found: %v, want amslack.yml and replicas/deployment.yml among them", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			objs, err := readManifests(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) == 0 {
				t.Fatal("no Kubernetes object")
			}
			for _, o := range objs {
				if err := validatePorts(o.obj); err != nil {
					t.Errorf("%s: %v", o, err)
				}
			}
		})
	}
}

// TestKubernetesManifestStrictness proves that the decoding refuses what
// the API server refuses.
func TestKubernetesManifestStrictness(t *testing.T) {
	for _, tt := range []struct{ name, doc, says string }{
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: b}\nspec: {selectr: {a: b}}\n", `unknown field "spec.selectr"`},
		{"field in the wrong case", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\nData: {a: b}\n", `unknown field "Data"`},
		{"duplicate field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\ndata: {a: b}\ndata: {c: d}\n", `"data" already set`},
		{"YAML 1.1 boolean for a string", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: a, namespace: b}\nspec: {template: {spec: {containers: [{name: r, args: [--appendonly, yes]}]}}}\n", "cannot unmarshal bool"},
		{"unknown kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n", "not one that the check knows"},
		{"bad name", "apiVersion: v1\nkind: Service\nmetadata: {name: Amslack, namespace: b}\n", "metadata.name"},
		{"bad label", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b, labels: {a: -b}}\n", "metadata.labels"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeManifest([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("decodeManifest: %v, want an error saying %q", err, tt.says)
			}
		})
	}
}

// validatePorts checks the names of the ports of obj's containers and
// Services as the API server does.
func validatePorts(obj metav1.Object) error {
	var errs []error
	check := func(where, name string) {
		if name == "" {
			return
		}
		for _, m := range validation.IsValidPortName(name) {
			errs = append(errs, fmt.Errorf("%s %q: %s", where, name, m))
		}
	}
	if w, ok := asWorkload(obj); ok {
		for _, c := range w.pod.Spec.Containers {
			for _, p := range c.Ports {
				check("container "+c.Name+" port", p.Name)
			}
		}
	}
	if s, ok := obj.(*corev1.Service); ok {
		for _, p := range s.Spec.Ports {
			check("port", p.Name)
			if p.TargetPort.Type == intstr.String {
				check("targetPort", p.TargetPort.StrVal)
			}
		}
	}
	return errors.Join(errs...)
}

// kubeSet is what one kubectl apply command of the examples' comments
// applies, and the Secrets that the kubectl create secret commands in
// those files' comments create.
type kubeSet struct {
	files   []string
	objects []kubeObject
	// secrets are the keys of the Secrets that kubectl commands create,
	// by namespace/name; each command is one definition.
	secrets map[string][]keyDefinition
}

// keyDefinition is one place that says which keys a ConfigMap or Secret
// has.
type keyDefinition struct {
	where string
	keys  map[string]bool
}

// kubectlCommands returns the kubectl commands in the comments of the
// manifest text b, each split into its words, with continued lines joined
// and trailing comments dropped.
func kubectlCommands(b []byte) [][]string {
	var cmds [][]string
	cont := ""
	for _, line := range strings.Split(string(b), "\n") {
		text, ok := strings.CutPrefix(strings.TrimSpace(line), "#")
		if !ok {
			cont = ""
			continue
		}
		text = strings.TrimSpace(text)
		if i := strings.Index(text, " #"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if cont != "" {
			text, cont = cont+" "+text, ""
		} else if !strings.HasPrefix(text, "kubectl ") {
			continue
		}
		if more, ok := strings.CutSuffix(text, `\`); ok {
			cont = strings.TrimSpace(more)
			continue
		}
		cmds = append(cmds, strings.Fields(text))
	}
	return cmds
}

// kubectlNamespace removes kubectl's -n/--namespace option from words and
// returns the namespace it names, "default" without one.
func kubectlNamespace(words []string) (string, []string) {
	ns := "default"
	var rest []string
	for i := 0; i < len(words); i++ {
		switch w := words[i]; {
		case (w == "-n" || w == "--namespace") && i+1 < len(words):
			ns = words[i+1]
			i++
		case strings.HasPrefix(w, "--namespace="):
			ns = strings.TrimPrefix(w, "--namespace=")
		default:
			rest = append(rest, w)
		}
	}
	return ns, rest
}

// createdSecret returns the namespace, name and keys of the Secret that
// the kubectl command words creates, if it creates one.
func createdSecret(words []string) (ns, name string, keys map[string]bool, err error) {
	ns, words = kubectlNamespace(words)
	if len(words) < 5 || !slices.Equal(words[1:4], []string{"create", "secret", "generic"}) {
		return "", "", nil, nil
	}
	keys = map[string]bool{}
	for _, w := range words[5:] {
		switch {
		case strings.HasPrefix(w, "--from-file="):
			src := strings.TrimPrefix(w, "--from-file=")
			if k, _, ok := strings.Cut(src, "="); ok {
				keys[k] = true
			} else {
				keys[path.Base(src)] = true
			}
		case strings.HasPrefix(w, "--from-literal="):
			k, _, _ := strings.Cut(strings.TrimPrefix(w, "--from-literal="), "=")
			keys[k] = true
		default:
			return "", "", nil, fmt.Errorf("%s: the check reads only --from-file and --from-literal", strings.Join(words, " "))
		}
	}
	return ns, words[4], keys, nil
}

// applySets returns what each kubectl apply command in the examples'
// comments applies, with the file whose comment has it.
func applySets(t *testing.T) map[string]*kubeSet {
	t.Helper()
	sets := map[string]*kubeSet{}
	for _, f := range manifestFiles(t) {
		b, err := os.ReadFile(filepath.Join(kubernetesDir, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, cmd := range kubectlCommands(b) {
			_, words := kubectlNamespace(cmd)
			if len(words) < 2 || words[1] != "apply" {
				continue
			}
			s := &kubeSet{secrets: map[string][]keyDefinition{}}
			for j := 2; j < len(words); j++ {
				if words[j] == "-f" && j+1 < len(words) {
					s.files = append(s.files, words[j+1])
					j++
				} else if strings.HasPrefix(words[j], "-") {
					t.Fatalf("%s: kubectl apply option %s: the check reads only -f FILE", f, words[j])
				}
			}
			name := f
			if _, ok := sets[name]; ok {
				name = fmt.Sprintf("%s#%d", f, i+1)
			}
			sets[name] = s
		}
	}
	for name, s := range sets {
		for _, f := range s.files {
			objs, err := readManifests(f)
			if err != nil {
				t.Fatalf("%s applies %s: %v", name, f, err)
			}
			s.objects = append(s.objects, objs...)
			b, err := os.ReadFile(filepath.Join(kubernetesDir, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, cmd := range kubectlCommands(b) {
				ns, secret, keys, err := createdSecret(cmd)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if secret != "" {
					id := ns + "/" + secret
					s.secrets[id] = append(s.secrets[id], keyDefinition{f + ": kubectl create secret", keys})
				}
			}
		}
	}
	return sets
}

// TestKubernetesManifestsApplied checks that every manifest file is applied
// by a kubectl apply command of the examples' comments, so that the checks
// of TestKubernetesManifestSets see it with the files applied along with it,
// and that the files at the top of examples/kubernetes that run nothing
// (the Ingress, the monitoring) go with every way of running amslack.
func TestKubernetesManifestsApplied(t *testing.T) {
	applied := map[string]int{}
	sets := applySets(t)
	for _, s := range sets {
		for _, f := range s.files {
			applied[f]++
		}
	}
	for _, f := range manifestFiles(t) {
		if applied[f] == 0 {
			t.Errorf("%s is in no kubectl apply command of the examples' comments (%d of them)", f, len(sets))
			continue
		}
		if strings.Contains(f, "/") || applied[f] == len(sets) {
			continue
		}
		objs, err := readManifests(f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(objs, func(o kubeObject) bool { _, ok := asWorkload(o.obj); return ok }) {
			t.Errorf("%s is applied by %d of the %d kubectl apply commands of the examples' comments, want all", f, applied[f], len(sets))
		}
	}
}

// workload is what the checks need of a Deployment or a StatefulSet.
type workload struct {
	kind, name, namespace string
	replicas              int32
	selector              *metav1.LabelSelector
	pod                   corev1.PodTemplateSpec
	claims                []corev1.PersistentVolumeClaim
	serviceName           string
}

func (w workload) String() string { return w.kind + " " + w.name }

// asWorkload returns obj as a workload if it is one.
func asWorkload(obj metav1.Object) (workload, bool) {
	replicas := func(r *int32) int32 {
		if r == nil {
			return 1
		}
		return *r
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return workload{"Deployment", o.Name, o.Namespace, replicas(o.Spec.Replicas), o.Spec.Selector, o.Spec.Template, nil, ""}, true
	case *appsv1.StatefulSet:
		return workload{"StatefulSet", o.Name, o.Namespace, replicas(o.Spec.Replicas), o.Spec.Selector, o.Spec.Template, o.Spec.VolumeClaimTemplates, o.Spec.ServiceName}, true
	}
	return workload{}, false
}

// selects says whether sel selects the pods of w; a nil selector selects
// nothing.
func selects(sel *metav1.LabelSelector, w workload) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && !s.Empty() && s.Matches(labels.Set(w.pod.Labels))
}

func (s *kubeSet) workloads() []workload {
	var ws []workload
	for _, o := range s.objects {
		if w, ok := asWorkload(o.obj); ok {
			ws = append(ws, w)
		}
	}
	return ws
}

// selected returns the workloads whose pods sel selects.
func (s *kubeSet) selected(sel *metav1.LabelSelector) []workload {
	var ws []workload
	for _, w := range s.workloads() {
		if selects(sel, w) {
			ws = append(ws, w)
		}
	}
	return ws
}

// find returns the object of the kind, namespace and name.
func find[T metav1.Object](s *kubeSet, namespace, name string) (T, bool) {
	for _, o := range s.objects {
		if t, ok := o.obj.(T); ok && o.obj.GetNamespace() == namespace && o.obj.GetName() == name {
			return t, true
		}
	}
	var zero T
	return zero, false
}

// definitions returns the places that say which keys the ConfigMap or
// Secret kind namespace/name has.
func (s *kubeSet) definitions(kind, namespace, name string) []keyDefinition {
	var defs []keyDefinition
	switch kind {
	case "ConfigMap":
		if cm, ok := find[*corev1.ConfigMap](s, namespace, name); ok {
			keys := map[string]bool{}
			for k := range cm.Data {
				keys[k] = true
			}
			for k := range cm.BinaryData {
				keys[k] = true
			}
			defs = append(defs, keyDefinition{"ConfigMap " + name, keys})
		}
	case "Secret":
		if sec, ok := find[*corev1.Secret](s, namespace, name); ok {
			keys := map[string]bool{}
			for k := range sec.Data {
				keys[k] = true
			}
			for k := range sec.StringData {
				keys[k] = true
			}
			defs = append(defs, keyDefinition{"Secret " + name, keys})
		}
		defs = append(defs, s.secrets[namespace+"/"+name]...)
	}
	return defs
}

// hasKey checks that every definition of kind namespace/name has key, and
// that there is one.
func (s *kubeSet) hasKey(kind, namespace, name, key string) error {
	defs := s.definitions(kind, namespace, name)
	if len(defs) == 0 {
		return fmt.Errorf("%s %s is neither in the manifests nor created by a kubectl command in their comments", kind, name)
	}
	for _, d := range defs {
		if !d.keys[key] {
			return fmt.Errorf("%s has no key %q", d.where, key)
		}
	}
	return nil
}

// projection is a ConfigMap or Secret whose keys a volume shows as files.
type projection struct {
	kind, name string
	items      []corev1.KeyToPath
	optional   bool
}

// projections returns the ConfigMaps and Secrets that v shows.
func projections(v corev1.Volume) []projection {
	var ps []projection
	isTrue := func(b *bool) bool { return b != nil && *b }
	if c := v.ConfigMap; c != nil {
		ps = append(ps, projection{"ConfigMap", c.Name, c.Items, isTrue(c.Optional)})
	}
	if c := v.Secret; c != nil {
		ps = append(ps, projection{"Secret", c.SecretName, c.Items, isTrue(c.Optional)})
	}
	if v.Projected != nil {
		for _, src := range v.Projected.Sources {
			if c := src.ConfigMap; c != nil {
				ps = append(ps, projection{"ConfigMap", c.Name, c.Items, isTrue(c.Optional)})
			}
			if c := src.Secret; c != nil {
				ps = append(ps, projection{"Secret", c.Name, c.Items, isTrue(c.Optional)})
			}
		}
	}
	return ps
}

// mount returns the volume mount of c under which file lies.
func mount(c corev1.Container, file string) (corev1.VolumeMount, bool) {
	var best corev1.VolumeMount
	found := false
	for _, m := range c.VolumeMounts {
		if (file == m.MountPath || strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")) && len(m.MountPath) >= len(best.MountPath) {
			best, found = m, true
		}
	}
	return best, found
}

// mountedFile returns the ConfigMap or Secret, and its key, that container
// c of w sees as file.
func (s *kubeSet) mountedFile(w workload, c corev1.Container, file string) (projection, string, error) {
	m, ok := mount(c, file)
	if !ok {
		return projection{}, "", fmt.Errorf("%s is on no volume of container %s", file, c.Name)
	}
	if m.SubPath != "" || m.SubPathExpr != "" {
		return projection{}, "", fmt.Errorf("volume mount %s uses subPath, which the check does not follow", m.Name)
	}
	rel := strings.TrimPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
	for _, v := range w.pod.Spec.Volumes {
		if v.Name != m.Name {
			continue
		}
		for _, p := range projections(v) {
			if len(p.items) > 0 {
				for _, it := range p.items {
					if it.Path == rel {
						return p, it.Key, s.hasKey(p.kind, w.namespace, p.name, it.Key)
					}
				}
				continue
			}
			for _, d := range s.definitions(p.kind, w.namespace, p.name) {
				if d.keys[rel] {
					return p, rel, s.hasKey(p.kind, w.namespace, p.name, rel)
				}
			}
		}
		return projection{}, "", fmt.Errorf("%s: volume %s at %s has no file %s", c.Name, m.Name, m.MountPath, rel)
	}
	return projection{}, "", fmt.Errorf("%s: volume mount %s names no volume of the pod", c.Name, m.Name)
}

// containerPort returns the port of c that p names, by name or number.
func containerPort(c corev1.Container, p intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp, true
		}
	}
	return corev1.ContainerPort{}, false
}

// podPort returns the container of w that has port p.
func podPort(w workload, p intstr.IntOrString) (corev1.Container, corev1.ContainerPort, bool) {
	for _, c := range w.pod.Spec.Containers {
		if cp, ok := containerPort(c, p); ok {
			return c, cp, true
		}
	}
	return corev1.Container{}, corev1.ContainerPort{}, false
}

// flagValue returns the value of the command-line option name (with its
// dashes) in args, written as "name=value" or "name value".
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// TestKubernetesManifestSets checks what the objects that one kubectl apply
// command applies say of each other: what each selector selects, that every
// port, volume, ConfigMap and Secret key named is there, and, for amslack
// and the Redis it uses, the settings that keep a notification answered 200.
func TestKubernetesManifestSets(t *testing.T) {
	sets := applySets(t)
	if len(sets) < 2 {
		t.Fatalf("%d kubectl apply commands in the examples' comments, want one for one replica and one for several", len(sets))
	}
	amslacks := 0
	for name, s := range sets {
		t.Run(name, func(t *testing.T) {
			checkObjects(t, s)
			for _, w := range s.workloads() {
				checkWorkload(t, s, w)
				for _, c := range w.pod.Spec.Containers {
					if c.Name == "amslack" {
						amslacks++
						checkAmslack(t, s, w, c)
					}
				}
			}
		})
	}
	if amslacks < 2 {
		t.Errorf("%d amslack containers in the examples, want the one-replica and the several-replica ones", amslacks)
	}
}

// checkObjects checks the objects of s that are not workloads, and that
// the set is in one namespace with no object twice.
func checkObjects(t *testing.T, s *kubeSet) {
	t.Helper()
	seen := map[string]string{}
	namespaces := map[string]bool{}
	for _, o := range s.objects {
		id := o.kind + " " + o.obj.GetNamespace() + "/" + o.obj.GetName()
		if prev, ok := seen[id]; ok {
			t.Errorf("%s is in %s and %s", id, prev, o.file)
		}
		seen[id] = o.file
		namespaces[o.obj.GetNamespace()] = true

		switch obj := o.obj.(type) {
		case *corev1.Service:
			sel := &metav1.LabelSelector{MatchLabels: obj.Spec.Selector}
			ws := s.selected(sel)
			if len(ws) != 1 {
				t.Errorf("%s selects the pods of %v, want one workload's", o, ws)
				continue
			}
			for _, p := range obj.Spec.Ports {
				target := p.TargetPort
				if target.Type == intstr.Int && target.IntVal == 0 {
					target = intstr.FromInt32(p.Port)
				}
				if _, _, ok := podPort(ws[0], target); !ok {
					t.Errorf("%s: port %s targets %s, which no container of %s has", o, p.Name, target.String(), ws[0])
				}
			}
		case *networkingv1.Ingress:
			for _, r := range obj.Spec.Rules {
				if r.HTTP == nil {
					continue
				}
				for _, p := range r.HTTP.Paths {
					svc := p.Backend.Service
					if svc == nil {
						t.Errorf("%s: path %s has no Service backend", o, p.Path)
						continue
					}
					checkServicePort(t, s, o, obj.Namespace, svc.Name, svc.Port.Name, svc.Port.Number)
				}
			}
		case *serviceMonitor:
			var matched []*corev1.Service
			sel, err := metav1.LabelSelectorAsSelector(&obj.Spec.Selector)
			if err != nil {
				t.Errorf("%s: %v", o, err)
				continue
			}
			for _, other := range s.objects {
				if svc, ok := other.obj.(*corev1.Service); ok && svc.Namespace == obj.Namespace && sel.Matches(labels.Set(svc.Labels)) {
					matched = append(matched, svc)
				}
			}
			if len(matched) != 1 {
				t.Errorf("%s selects %d Services, want one", o, len(matched))
				continue
			}
			for _, e := range obj.Spec.Endpoints {
				checkServicePort(t, s, o, obj.Namespace, matched[0].Name, e.Port, 0)
			}
		case *networkingv1.NetworkPolicy:
			ws := s.selected(&obj.Spec.PodSelector)
			if len(ws) != 1 {
				t.Errorf("%s applies to the pods of %v, want one workload's", o, ws)
				continue
			}
			for _, rule := range obj.Spec.Ingress {
				for _, p := range rule.Ports {
					if p.Port == nil {
						continue
					}
					if _, _, ok := podPort(ws[0], *p.Port); !ok {
						t.Errorf("%s lets in port %s, which no container of %s has", o, p.Port.String(), ws[0])
					}
				}
			}
		case *policyv1.PodDisruptionBudget:
			ws := s.selected(obj.Spec.Selector)
			if len(ws) != 1 {
				t.Errorf("%s covers the pods of %v, want one workload's", o, ws)
				continue
			}
			if n := allowedDisruptions(obj, ws[0].replicas); n < 1 {
				t.Errorf("%s allows %d of the %d pods of %s to be evicted at once: a node drain would never finish", o, n, ws[0].replicas, ws[0])
			}
		}
	}
	if len(namespaces) != 1 {
		t.Errorf("the objects are in the namespaces %v, want one", namespaces)
	}
}

// checkServicePort checks that the Service namespace/name has the port of
// that name (or number) that o refers to.
func checkServicePort(t *testing.T, s *kubeSet, o kubeObject, namespace, name, port string, number int32) {
	t.Helper()
	svc, ok := find[*corev1.Service](s, namespace, name)
	if !ok {
		t.Errorf("%s refers to Service %s, which is not applied with it", o, name)
		return
	}
	for _, p := range svc.Spec.Ports {
		if (port != "" && p.Name == port) || (port == "" && p.Port == number) {
			return
		}
	}
	t.Errorf("%s refers to port %q (%d) of Service %s, which has no such port", o, port, number, name)
}

// allowedDisruptions returns how many of replicas pods pdb lets be evicted
// at once, rounding percentages up as the disruption controller does.
func allowedDisruptions(pdb *policyv1.PodDisruptionBudget, replicas int32) int {
	if v := pdb.Spec.MaxUnavailable; v != nil {
		n, err := intstr.GetScaledValueFromIntOrPercent(v, int(replicas), true)
		if err != nil {
			return 0
		}
		return n
	}
	if v := pdb.Spec.MinAvailable; v != nil {
		n, err := intstr.GetScaledValueFromIntOrPercent(v, int(replicas), true)
		if err != nil {
			return 0
		}
		return int(replicas) - n
	}
	return 0
}

// checkWorkload checks that w's selector selects its own pods and that
// every volume, mount, probe port and environment reference of its
// containers resolves.
func checkWorkload(t *testing.T, s *kubeSet, w workload) {
	t.Helper()
	if !selects(w.selector, w) {
		t.Errorf("%s: the selector %v does not select the pod template's labels %v", w, w.selector, w.pod.Labels)
	}
	volumes := map[string]bool{}
	for _, v := range w.pod.Spec.Volumes {
		volumes[v.Name] = true
		for _, p := range projections(v) {
			if !p.optional && len(s.definitions(p.kind, w.namespace, p.name)) == 0 {
				t.Errorf("%s: volume %s shows %s %s, which is neither applied with it nor created by a kubectl command in the comments", w, v.Name, p.kind, p.name)
			}
			for _, it := range p.items {
				if err := s.hasKey(p.kind, w.namespace, p.name, it.Key); err != nil {
					t.Errorf("%s: volume %s: %v", w, v.Name, err)
				}
			}
		}
	}
	for _, c := range w.claims {
		volumes[c.Name] = true
	}
	for _, c := range w.pod.Spec.Containers {
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				t.Errorf("%s: container %s mounts %s, which is no volume of the pod", w, c.Name, m.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil && (r.Optional == nil || !*r.Optional) {
				if err := s.hasKey("Secret", w.namespace, r.Name, r.Key); err != nil {
					t.Errorf("%s: container %s: env %s: %v", w, c.Name, e.Name, err)
				}
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil && (r.Optional == nil || !*r.Optional) {
				if err := s.hasKey("ConfigMap", w.namespace, r.Name, r.Key); err != nil {
					t.Errorf("%s: container %s: env %s: %v", w, c.Name, e.Name, err)
				}
			}
		}
		for kind, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
			var port *intstr.IntOrString
			switch {
			case p == nil:
			case p.HTTPGet != nil:
				port = &p.HTTPGet.Port
			case p.TCPSocket != nil:
				port = &p.TCPSocket.Port
			case p.GRPC != nil:
				port = &intstr.IntOrString{Type: intstr.Int, IntVal: p.GRPC.Port}
			}
			if port != nil {
				if _, ok := containerPort(c, *port); !ok {
					t.Errorf("%s: container %s: the %s probe's port %s is not one of the container's ports", w, c.Name, kind, port.String())
				}
			}
		}
	}
}

// checkAmslack checks the amslack container c of w: its configuration is
// valid and mounted from the ConfigMap, its probes ask the listener for
// /-/healthy and /-/ready, every secret file the configuration names comes
// from a Secret, and with several replicas, the replicas share a Redis
// that keeps what it acknowledged, spread over nodes with a disruption
// budget.
func checkAmslack(t *testing.T, s *kubeSet, w workload, c corev1.Container) {
	t.Helper()
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: container %s: %s", w, c.Name, fmt.Sprintf(format, args...))
	}

	cfgFile, ok := flagValue(c.Args, "--config.file")
	if !ok {
		errorf("no --config.file")
		return
	}
	src, key, err := s.mountedFile(w, c, cfgFile)
	if err != nil {
		errorf("--config.file: %v", err)
		return
	}
	cm, ok := find[*corev1.ConfigMap](s, w.namespace, src.name)
	if src.kind != "ConfigMap" || !ok {
		errorf("--config.file %s comes from %s %s, want a ConfigMap applied with it", cfgFile, src.kind, src.name)
		return
	}
	text := cm.Data[key]
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		errorf("ConfigMap %s's %s is not valid: %v", cm.Name, key, err)
		return
	}

	// Both listeners serve the health checks (cmd/internal/app/http.go).
	listeners := map[int32]string{}
	for _, flag := range []string{"--web.listen-address", "--web.admin-listen-address"} {
		addr, ok := flagValue(c.Args, flag)
		if !ok {
			continue
		}
		_, port, err := net.SplitHostPort(addr)
		n, err2 := strconv.ParseInt(port, 10, 32)
		if err != nil || err2 != nil {
			errorf("%s %q: want host:port", flag, addr)
			continue
		}
		if _, ok := containerPort(c, intstr.FromInt32(int32(n))); !ok {
			errorf("%s listens on %d, which is not one of the container's ports", flag, n)
		}
		listeners[int32(n)] = flag
	}
	if len(listeners) == 0 {
		errorf("no --web.listen-address: the probes would depend on its default")
	}
	for _, p := range []struct {
		kind, path string
		probe      *corev1.Probe
	}{{"liveness", "/-/healthy", c.LivenessProbe}, {"readiness", "/-/ready", c.ReadinessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			errorf("no HTTP %s probe", p.kind)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			errorf("the %s probe asks for %s, want %s", p.kind, p.probe.HTTPGet.Path, p.path)
		}
		if cp, ok := containerPort(c, p.probe.HTTPGet.Port); !ok || listeners[cp.ContainerPort] == "" {
			errorf("the %s probe's port %s is not one amslack listens on (%v)", p.kind, p.probe.HTTPGet.Port.String(), listeners)
		}
		if p.probe.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			errorf("the %s probe uses HTTPS, which needs --web.config.file", p.kind)
		}
	}

	storage, ok := flagValue(c.Args, "--storage.path")
	if m, mounted := mount(c, storage); !ok || !mounted || m.ReadOnly {
		errorf("--storage.path %q must be on a writable volume: the root filesystem may be read-only", storage)
	}

	files, err := secretFiles(text)
	if err != nil {
		errorf("%v", err)
	}
	for _, f := range files {
		src, key, err := s.mountedFile(w, c, f.path)
		switch {
		case err != nil:
			errorf("%s: %v", f.key, err)
		case src.kind != "Secret":
			errorf("%s %s comes from %s %s's key %s, want a Secret", f.key, f.path, src.kind, src.name, key)
		}
	}

	if w.replicas > 1 {
		if cfg.Store.Redis == nil {
			errorf("%d replicas without store.redis: each would keep its own state and outbox", w.replicas)
		}
		spread := false
		for _, tc := range w.pod.Spec.TopologySpreadConstraints {
			spread = spread || (tc.TopologyKey == "kubernetes.io/hostname" && selects(tc.LabelSelector, w))
		}
		if a := w.pod.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
			for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
				spread = spread || (term.TopologyKey == "kubernetes.io/hostname" && selects(term.LabelSelector, w))
			}
			for _, term := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				spread = spread || (term.PodAffinityTerm.TopologyKey == "kubernetes.io/hostname" && selects(term.PodAffinityTerm.LabelSelector, w))
			}
		}
		if !spread {
			errorf("%d replicas with no topology spread or pod anti-affinity over kubernetes.io/hostname: one node could hold them all", w.replicas)
		}
		budget := false
		for _, o := range s.objects {
			if pdb, ok := o.obj.(*policyv1.PodDisruptionBudget); ok && selects(pdb.Spec.Selector, w) {
				budget = true
			}
		}
		if !budget {
			errorf("%d replicas and no PodDisruptionBudget: a node drain may evict them all at once", w.replicas)
		}
	}
	if r := cfg.Store.Redis; r != nil {
		checkRedis(t, s, w.namespace, r)
	}
}

// secretFile is a file that a _file key of amslack's configuration names.
type secretFile struct{ key, path string }

// secretFiles returns the files that the configuration text names for its
// secrets: the _file twins of the keys in secretKeys, wherever they are.
func secretFiles(text string) ([]secretFile, error) {
	var doc any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	var files []secretFile
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[any]any:
			for k, val := range v {
				key := fmt.Sprint(k)
				if base, ok := strings.CutSuffix(key, "_file"); ok && secretKeys[base] {
					if p, ok := val.(string); ok {
						files = append(files, secretFile{at + key, p})
					}
				}
				walk(at+key+".", val)
			}
		case []any:
			for i, val := range v {
				walk(fmt.Sprintf("%s[%d].", strings.TrimSuffix(at, "."), i), val)
			}
		}
	}
	walk("", doc)
	slices.SortFunc(files, func(a, b secretFile) int { return strings.Compare(a.key, b.key) })
	return files, nil
}

func TestKubernetesSecretFiles(t *testing.T) {
	got, err := secretFiles("slack: {bot_token_file: /s/bot, signing_secret: x}\nstore: {redis: {password_file: /s/redis}}\n" +
		"interactions: {audit_file: /var/audit}\nactions: [{id: a, secret_file: /s/action}]\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []secretFile{{"actions[0].secret_file", "/s/action"}, {"slack.bot_token_file", "/s/bot"}, {"store.redis.password_file", "/s/redis"}}
	if !slices.Equal(got, want) {
		t.Errorf("secretFiles: %v, want %v", got, want)
	}
}

// checkRedis checks that store.redis r names a Redis of s, through its
// Service, whose options keep every write it acknowledged: the append-only
// file fsynced on each write, on a persistent volume, and no eviction.
func checkRedis(t *testing.T, s *kubeSet, namespace string, r *config.Redis) {
	t.Helper()
	host, port, err := net.SplitHostPort(r.Address)
	if err != nil {
		t.Errorf("store.redis.address %q: %v", r.Address, err)
		return
	}
	// <service>.<namespace>.svc or, for one pod behind a headless Service,
	// <pod>.<service>.<namespace>.svc, optionally followed by the cluster
	// domain (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/).
	parts := strings.Split(host, ".")
	i := slices.Index(parts, "svc")
	if i < 2 || i > 3 {
		t.Errorf("store.redis.address %q: want <service>.<namespace>.svc or <pod>.<service>.<namespace>.svc", r.Address)
		return
	}
	pod, svcName, ns := "", parts[i-2], parts[i-1]
	if i == 3 {
		pod = parts[0]
	}
	svc, ok := find[*corev1.Service](s, ns, svcName)
	if ns != namespace || !ok {
		t.Errorf("store.redis.address %q: no Service %s in namespace %s is applied with amslack", r.Address, svcName, ns)
		return
	}
	var target intstr.IntOrString
	found := false
	for _, p := range svc.Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port {
			target, found = p.TargetPort, true
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
		}
	}
	if !found {
		t.Errorf("store.redis.address %q: Service %s has no port %s", r.Address, svc.Name, port)
		return
	}
	ws := s.selected(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector})
	if len(ws) != 1 {
		t.Errorf("store.redis.address %q: Service %s selects the pods of %v, want one workload's", r.Address, svc.Name, ws)
		return
	}
	redis := ws[0]
	if pod != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(pod, redis.name+"-"))
		if redis.kind != "StatefulSet" || redis.serviceName != svc.Name || svc.Spec.ClusterIP != corev1.ClusterIPNone || err != nil || n >= int(redis.replicas) {
			t.Errorf("store.redis.address %q: %s is not a pod of a StatefulSet whose serviceName is the headless Service %s", r.Address, pod, svc.Name)
		}
	}
	c, _, ok := podPort(redis, target)
	if !ok {
		t.Errorf("store.redis.address %q: no container of %s has port %s", r.Address, redis, target.String())
		return
	}
	// redis-server takes its configuration directives as options
	// (https://redis.io/docs/latest/operate/oss_and_stack/management/config/#passing-arguments-using-the-command-line).
	args := append(slices.Clone(c.Command), c.Args...)
	for _, want := range []struct{ option, value, why string }{
		{"--appendonly", "yes", "without the append-only file, a restart loses what Redis acknowledged since its last snapshot"},
		{"--appendfsync", "always", "with everysec, a crash loses up to a second of acknowledged writes"},
		{"--maxmemory-policy", "noeviction", "an evicted key is a notification that amslack accepted"},
	} {
		if got, _ := flagValue(args, want.option); got != want.value {
			t.Errorf("%s: container %s: %s %q, want %s: %s", redis, c.Name, want.option, got, want.value, want.why)
		}
	}
	dir, _ := flagValue(args, "--dir")
	m, ok := mount(c, dir)
	if dir == "" || !ok || !slices.ContainsFunc(redis.claims, func(pvc corev1.PersistentVolumeClaim) bool { return pvc.Name == m.Name }) {
		t.Errorf("%s: container %s: --dir %q must be on a volume of the StatefulSet's volumeClaimTemplates, or the data is lost with the pod", redis, c.Name, dir)
	}
	if r.MinReplicasToAck > 0 {
		t.Errorf("store.redis.min_replicas_to_ack is %d, and %s has no Redis replicas to wait for: every notification would fail", r.MinReplicasToAck, redis)
	}
	_, requirePass := flagValue(args, "--requirepass")
	if hasPass := r.Password != "" || r.PasswordFile != ""; requirePass != hasPass {
		t.Errorf("%s: --requirepass is set %v, and store.redis has a password %v: they must agree", redis, requirePass, hasPass)
	}
}
