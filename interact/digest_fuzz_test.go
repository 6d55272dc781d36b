package interact

import (
	"testing"

	"github.com/prometheus/alertmanager/template"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
)

// FuzzCoveredGroup feeds silence matchers as Alertmanager lists them, which
// come from whoever created the silence, to the check of which group a
// silence covers: it must not panic, must refuse regular expressions that
// do not compile, and must read an equality matcher as equality.
func FuzzCoveredGroup(f *testing.F) {
	f.Add("alertname", "DiskFull", false, true, "DiskFull")
	f.Add("cluster", "prod|staging", true, true, "prod")
	f.Add("cluster", "prod.*", true, false, "staging")
	f.Add("instance", "db-1", false, false, "db-2")
	f.Add("job", "(unclosed", true, true, "x")
	f.Add("", "", false, true, "")
	f.Add("alertname", "\x00\xff", true, true, "\xff")
	f.Fuzz(func(t *testing.T, name, value string, isRegex, isEqual bool, label string) {
		g := alertgroup.Group{Message: &alertgroup.Message{Data: &template.Data{
			Alerts: template.Alerts{{Labels: template.KV{name: label}}},
		}}}
		s := amclient.ListedSilence{Matchers: []amclient.Matcher{{Name: name, Value: value, IsRegex: isRegex, IsEqual: isEqual}}}
		_, covered := coveredGroup(s, []alertgroup.Group{g})
		if !isRegex && isEqual && covered != (label == value) {
			t.Errorf("equality matcher %s=%q on %q: covered = %v", name, value, label, covered)
		}
		if !isRegex && !isEqual && covered != (label != value) {
			t.Errorf("negative matcher %s!=%q on %q: covered = %v", name, value, label, covered)
		}
	})
}
