package config

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
)

// Problem is one thing wrong in a configuration file, and where it is.
type Problem struct {
	// File is the configuration file; empty for a document given to Parse.
	File string
	// Line is the line of the key or value at fault; 0 when unknown.
	Line int
	// Key is the YAML path of the key at fault, like routes[0].channel;
	// empty when the problem is not at one key.
	Key string
	// Err says what is wrong, beginning with Key.
	Err error
}

func (p *Problem) Error() string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d: %v", p.File, p.Line, p.Err)
	case p.File != "":
		return fmt.Sprintf("%s: %v", p.File, p.Err)
	case p.Line > 0:
		return fmt.Sprintf("line %d: %v", p.Line, p.Err)
	}
	return p.Err.Error()
}

func (p *Problem) Unwrap() error { return p.Err }

// Problems returns the problems err holds, in order.
func Problems(err error) []*Problem {
	var out []*Problem
	for _, e := range leafErrors(err) {
		var p *Problem
		if errors.As(e, &p) {
			out = append(out, p)
		}
	}
	return out
}

// leafErrors lists the errors that err holds, through errors.Join.
func leafErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// joinProblems returns the problems as one error, in the order of their
// lines; those without a line come last.
func joinProblems(ps []*Problem) error {
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		return cmp.Compare(lineOrder(a.Line), lineOrder(b.Line))
	})
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

func lineOrder(line int) int {
	if line == 0 {
		return int(^uint(0) >> 1)
	}
	return line
}

// Locate returns err, whose errors begin with the path of their key as the
// configuration's validation errors do (such as those of reading its
// secret files), as problems at their lines in the configuration's file.
func (c *Config) Locate(err error) error {
	if err == nil {
		return nil
	}
	ps := locate(c.doc, err, nil)
	for _, p := range ps {
		p.File = c.file
	}
	return joinProblems(ps)
}

// inFile names path as the file of every problem of err.
func inFile(path string, err error) error {
	ps := Problems(err)
	if len(ps) == 0 {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range ps {
		p.File = path
	}
	return err
}

// syntaxError matches the line of yaml's syntax errors, such as
// "yaml: line 3: mapping values are not allowed in this context".
var syntaxError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decode decodes the YAML document b into c, and returns every problem
// that keeps a part of it from decoding: unknown keys, keys set twice, and
// values of the wrong kind or that do not parse, each at its path and line.
// The parts with problems are left out, so that the rest decodes and can be
// validated too. It returns the document's node tree, for the lines of
// later problems, or nil when b is not YAML.
func decode(b []byte, c *Config) (*yaml3.Node, []*Problem) {
	var doc yaml3.Node
	if err := yaml3.Unmarshal(b, &doc); err != nil {
		p := &Problem{Err: fmt.Errorf("invalid YAML: %w", err)}
		if m := syntaxError.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Err = fmt.Errorf("invalid YAML: %s", m[2])
		}
		return nil, []*Problem{p}
	}
	if doc.Kind == 0 {
		// An empty document: every key takes its default.
		return &doc, nil
	}
	ch := checker{seen: map[*yaml3.Node]bool{}}
	if !ch.check(&doc, reflect.TypeFor[Config](), "") {
		return &doc, ch.problems
	}
	if err := doc.Decode(c); err != nil {
		// The checks above leave nothing that fails to decode but
		// excessive aliasing, which the decoder refuses on its own.
		ch.problems = append(ch.problems, &Problem{Err: err})
	}
	return &doc, ch.problems
}

// checker compares a node tree with the Go types it decodes into.
type checker struct {
	problems []*Problem
	// reported holds the paths that have a problem.
	reported []string
	// seen holds the anchored nodes already checked, so that aliases do
	// not multiply the work.
	seen map[*yaml3.Node]bool
}

func (ch *checker) report(n *yaml3.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	ch.problems = append(ch.problems, &Problem{Line: n.Line, Key: path, Err: errors.New(msg)})
	ch.reported = append(ch.reported, path)
}

// unmarshalers are the interfaces through which a type decodes itself
// from YAML: those of yaml v3 and the older one of yaml v2, which
// prometheus/common's Duration and Secret implement.
var (
	unmarshaler         = reflect.TypeFor[yaml3.Unmarshaler]()
	obsoleteUnmarshaler = reflect.TypeFor[interface {
		UnmarshalYAML(func(any) error) error
	}]()
)

// check reports the problems of n, at path, for decoding into a value of
// type t, and removes the keys and values that have them. It reports
// whether n decodes.
func (ch *checker) check(n *yaml3.Node, t reflect.Type, path string) bool {
	switch n.Kind {
	case yaml3.DocumentNode:
		if len(n.Content) == 0 {
			return true
		}
		return ch.check(n.Content[0], t, path)
	case yaml3.AliasNode:
		if n.Alias == nil || ch.seen[n.Alias] {
			return true
		}
		ch.seen[n.Alias] = true
		return ch.check(n.Alias, t, path)
	}
	if n.Kind == yaml3.ScalarNode && n.ShortTag() == "!!null" {
		return true
	}
	if pt := reflect.PointerTo(t); pt.Implements(unmarshaler) || pt.Implements(obsoleteUnmarshaler) {
		return ch.checkScalar(n, t, path)
	}
	switch t.Kind() {
	case reflect.Pointer:
		return ch.check(n, t.Elem(), path)
	case reflect.Interface:
		return true
	case reflect.Struct:
		if n.Kind != yaml3.MappingNode {
			ch.report(n, path, "want a mapping with the keys %s, got %s", strings.Join(yamlKeys(t), ", "), kindName(n))
			return false
		}
		ch.checkMapping(n, path, func(key *yaml3.Node, p string) (reflect.Type, bool) {
			ft, ok := fieldType(t, key.Value)
			if !ok {
				keys := yamlKeys(t)
				hint := ""
				if near := nearest(key.Value, keys); near != "" {
					hint = fmt.Sprintf(" did you mean %q?", near)
				}
				ch.report(key, p, "unknown key;%s valid keys here: %s", hint, strings.Join(keys, ", "))
			}
			return ft, ok
		}, t)
		return true
	case reflect.Map:
		if n.Kind != yaml3.MappingNode {
			ch.report(n, path, "want a mapping, got %s", kindName(n))
			return false
		}
		ch.checkMapping(n, path, func(key *yaml3.Node, p string) (reflect.Type, bool) {
			if key.Kind != yaml3.ScalarNode {
				ch.report(key, path, "want single values as keys, got %s", kindName(key))
				return nil, false
			}
			if !ch.checkScalar(key, t.Key(), p) {
				return nil, false
			}
			return t.Elem(), true
		}, t)
		return true
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml3.SequenceNode {
			ch.report(n, path, "want a list, got %s", kindName(n))
			return false
		}
		for i, item := range n.Content {
			if !ch.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)) {
				// Keep the indices of the items after it, which the
				// problems of later checks name: the decoder drops a
				// null item of a list of values.
				n.Content[i] = zeroNode(t.Elem(), item)
			}
		}
		return true
	}
	return ch.checkScalar(n, t, path)
}

// checkMapping checks the pairs of the mapping n; typeOf returns the type
// of a key's value, or false after it reported the key. Pairs with problems
// are removed. t is the mapping's own type, for merged mappings ("<<").
func (ch *checker) checkMapping(n *yaml3.Node, path string, typeOf func(key *yaml3.Node, path string) (reflect.Type, bool), t reflect.Type) {
	kept := n.Content[:0:0]
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.ShortTag() == "!!merge" {
			// The value is a mapping, or a list of them, whose keys this
			// mapping takes on.
			merged := value
			if merged.Kind == yaml3.AliasNode && merged.Alias != nil {
				merged = merged.Alias
			}
			ok := true
			if merged.Kind == yaml3.SequenceNode {
				for _, m := range merged.Content {
					ok = ch.check(m, t, path) && ok
				}
			} else {
				ok = ch.check(value, t, path)
			}
			if ok {
				kept = append(kept, key, value)
			}
			continue
		}
		p := joinPath(path, key.Value)
		if line, dup := first[key.Value]; dup {
			ch.report(key, p, "set twice (first on line %d)", line)
			continue
		}
		first[key.Value] = key.Line
		vt, ok := typeOf(key, p)
		if !ok || !ch.check(value, vt, p) {
			continue
		}
		kept = append(kept, key, value)
	}
	n.Content = kept
}

// checkScalar decodes n alone into a new value of type t, and reports why
// it does not decode.
func (ch *checker) checkScalar(n *yaml3.Node, t reflect.Type, path string) bool {
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return true
	}
	var te *yaml3.TypeError
	if !errors.As(err, &te) {
		// A type's own parser: its message says what is wrong with the
		// value (`unknown unit "hours" in duration "4hours"`).
		ch.report(n, path, "%v", err)
		return false
	}
	if n.Kind != yaml3.ScalarNode {
		ch.report(n, path, "want a single value, got %s", kindName(n))
		return false
	}
	switch t.Kind() {
	case reflect.Bool:
		ch.report(n, path, "want true or false (bool), got %q", n.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		ch.report(n, path, "want a whole number, got %q", n.Value)
	case reflect.Float32, reflect.Float64:
		ch.report(n, path, "want a number, got %q", n.Value)
	default:
		ch.report(n, path, "cannot use %q here", n.Value)
	}
	return false
}

// zeroNode returns a node, at the place of n, that decodes to the zero
// value of t.
func zeroNode(t reflect.Type, n *yaml3.Node) *yaml3.Node {
	z := &yaml3.Node{Kind: yaml3.ScalarNode, Tag: "!!null"}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if err := z.Encode(reflect.Zero(t).Interface()); err != nil {
			z = &yaml3.Node{Kind: yaml3.ScalarNode, Tag: "!!null"}
		}
	}
	z.Line, z.Column = n.Line, n.Column
	return z
}

// kindName names the kind of n, never its value, which may be a secret
// in the wrong place.
func kindName(n *yaml3.Node) string {
	switch n.Kind {
	case yaml3.MappingNode:
		return "a mapping"
	case yaml3.SequenceNode:
		return "a list"
	}
	return "a single value"
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlKeys returns the YAML keys of the struct type t, in the order of
// its fields.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, inline, ok := yamlName(f)
		switch {
		case !ok:
		case inline:
			keys = append(keys, yamlKeys(derefType(f.Type))...)
		default:
			keys = append(keys, name)
		}
	}
	return keys
}

// fieldType returns the type of the field of the struct type t that the
// YAML key decodes into.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	for f := range t.Fields() {
		name, inline, ok := yamlName(f)
		switch {
		case !ok:
		case inline:
			if ft, ok := fieldType(derefType(f.Type), key); ok {
				return ft, true
			}
		case name == key:
			return f.Type, true
		}
	}
	return nil, false
}

// yamlName returns the key of a struct field as yaml's struct tags name
// it, whether the field is inlined, and whether it is decoded at all.
func yamlName(f reflect.StructField) (name string, inline, ok bool) {
	tag := f.Tag.Get("yaml")
	if tag == "-" || !f.IsExported() {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if slices.Contains(strings.Split(opts, ","), "inline") {
		return "", true, true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false, true
}

func derefType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

// nearest returns the key of keys closest to s by edit distance, when it
// is close enough to be a likely misspelling of it.
func nearest(s string, keys []string) string {
	best, bestDist := "", 0
	for _, k := range keys {
		d := editDistance(strings.ToLower(s), k)
		if best == "" || d < bestDist {
			best, bestDist = k, d
		}
	}
	// One edit in a short key, two in a longer one, three in a long one.
	limit := 1
	switch n := len([]rune(s)); {
	case n > 10:
		limit = 3
	case n > 4:
		limit = 2
	}
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b: the
// insertions, deletions, substitutions and transpositions of adjacent
// runes that turn one into the other.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// errorKey matches the YAML path that begins a validation error.
var errorKey = regexp.MustCompile(`^([A-Za-z0-9_.\-]+(?:\[\d+\][A-Za-z0-9_.\-]*)*): `)

// locate turns validation errors, which begin with the path of their key,
// into problems at that key's line in doc. Errors at or below a path that
// already has a problem are left out: they follow from it.
func locate(doc *yaml3.Node, err error, reported []string) []*Problem {
	var ps []*Problem
	for _, e := range leafErrors(err) {
		p := &Problem{Err: e}
		if m := errorKey.FindStringSubmatch(e.Error()); m != nil {
			p.Key = m[1]
			if slices.ContainsFunc(reported, func(r string) bool { return within(p.Key, r) }) {
				continue
			}
			if doc != nil {
				p.Line = lineOf(doc, p.Key)
			}
		}
		ps = append(ps, p)
	}
	return ps
}

// within reports whether the path key is path or below it.
func within(key, path string) bool {
	rest, ok := strings.CutPrefix(key, path)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// lineOf returns the line of the key at path in the node tree n, or of
// the deepest part of path that it holds; 0 when it holds none.
func lineOf(n *yaml3.Node, path string) int {
	line := 0
	for depth := 0; depth < 100; depth++ {
		for n.Kind == yaml3.DocumentNode || n.Kind == yaml3.AliasNode {
			if n.Kind == yaml3.DocumentNode {
				if len(n.Content) == 0 {
					return line
				}
				n = n.Content[0]
			} else if n = n.Alias; n == nil {
				return line
			}
		}
		if path == "" {
			return line
		}
		switch n.Kind {
		case yaml3.MappingNode:
			path = strings.TrimPrefix(path, ".")
			// The longest key that begins path: keys may hold dots
			// (delivery.method_per_minute.chat.update).
			var key, value *yaml3.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if within(path, k.Value) && (key == nil || len(k.Value) > len(key.Value)) {
					key, value = k, n.Content[i+1]
				}
			}
			if key == nil {
				return line
			}
			line, n, path = key.Line, value, path[len(key.Value):]
		case yaml3.SequenceNode:
			end := strings.IndexByte(path, ']')
			if !strings.HasPrefix(path, "[") || end < 0 {
				return line
			}
			i, err := strconv.Atoi(path[1:end])
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n, path = n.Content[i], path[end+1:]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// ChangedKeys returns the keys of old and cur, two values of the same type
// at key, whose values differ: key itself when they are not structs, and
// otherwise key.<field> for each field that differs, in the order of the
// fields.
func ChangedKeys(key string, old, cur any) []string {
	a, b := reflect.ValueOf(old), reflect.ValueOf(cur)
	if a.Type() != b.Type() || a.Kind() != reflect.Struct {
		if reflect.DeepEqual(old, cur) {
			return nil
		}
		return []string{key}
	}
	var keys []string
	for i, f := range slices.Collect(a.Type().Fields()) {
		name, inline, ok := yamlName(f)
		switch {
		case !ok:
		case inline:
			keys = append(keys, ChangedKeys(key, a.Field(i).Interface(), b.Field(i).Interface())...)
		case !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()):
			keys = append(keys, joinPath(key, name))
		}
	}
	return keys
}
