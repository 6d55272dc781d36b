package examples

import (
	"net/url"
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v2"
)

// slackManifest is the part of a Slack app manifest that amslack depends
// on (docs.slack.dev/reference/app-manifest).
type slackManifest struct {
	Metadata struct {
		MajorVersion int `yaml:"major_version"`
	} `yaml:"_metadata"`
	Features struct {
		AppHome struct {
			HomeTabEnabled bool `yaml:"home_tab_enabled"`
		} `yaml:"app_home"`
		SlashCommands []struct {
			URL string `yaml:"url"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuth struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Interactivity struct {
			Enabled    bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
		} `yaml:"interactivity"`
		Events *struct {
			RequestURL string   `yaml:"request_url"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		OrgDeploy       bool   `yaml:"org_deploy_enabled"`
		FunctionRuntime string `yaml:"function_runtime"`
	} `yaml:"settings"`
	Functions map[string]any `yaml:"functions"`
}

func readSlackManifest(t *testing.T, file string) slackManifest {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m slackManifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// TestSlackManifests checks that the minimal manifest holds nothing that
// needs a paid plan, that the full one holds everything amslack serves,
// App Home included,
// and that every URL in them is one of amslack's Slack endpoints.
func TestSlackManifests(t *testing.T) {
	minimal := readSlackManifest(t, "slack-app-manifest-minimal.yml")
	full := readSlackManifest(t, "slack-app-manifest.yml")

	// Custom steps (functions) run only on paid plans, and need an
	// org-ready app with the remote function runtime.
	if len(minimal.Functions) > 0 || minimal.Settings.FunctionRuntime != "" || minimal.Settings.OrgDeploy || minimal.Settings.Events != nil {
		t.Errorf("the minimal manifest declares functions, events or org deployment: %+v", minimal.Settings)
	}
	if !minimal.Settings.Interactivity.Enabled {
		t.Error("the minimal manifest turns off interactivity, without which no button works")
	}
	for _, s := range []string{"chat:write", "chat:write.public"} {
		if !slices.Contains(minimal.OAuth.Scopes.Bot, s) {
			t.Errorf("the minimal manifest lacks the %s scope", s)
		}
	}
	for _, s := range minimal.OAuth.Scopes.Bot {
		if !slices.Contains(full.OAuth.Scopes.Bot, s) {
			t.Errorf("the minimal manifest's scope %s is not in the full one", s)
		}
	}
	if full.Functions["silence_alerts"] == nil || full.Metadata.MajorVersion != 2 || full.Settings.Events == nil || len(full.Features.SlashCommands) == 0 {
		t.Error("the full manifest lacks the silence_alerts step (manifest version 2), the Events API or the slash command")
	}
	// amslack publishes the Home tab when a user opens it, which Slack
	// tells it with the app_home_opened event.
	if !full.Features.AppHome.HomeTabEnabled {
		t.Error("the full manifest does not enable the Home tab (features.app_home.home_tab_enabled)")
	}
	if full.Settings.Events == nil || !slices.Contains(full.Settings.Events.BotEvents, "app_home_opened") {
		t.Error("the full manifest does not subscribe to the app_home_opened bot event (settings.event_subscriptions.bot_events)")
	}

	for file, m := range map[string]slackManifest{"minimal": minimal, "full": full} {
		urls := map[string]string{"interactivity": m.Settings.Interactivity.RequestURL}
		if m.Settings.Events != nil {
			urls["event_subscriptions"] = m.Settings.Events.RequestURL
		}
		for _, c := range m.Features.SlashCommands {
			urls["slash_commands"] = c.URL
		}
		want := map[string]string{"interactivity": "/slack/interactions", "event_subscriptions": "/slack/events", "slash_commands": "/slack/commands"}
		for k, raw := range urls {
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "https" || u.Path != want[k] {
				t.Errorf("%s manifest: %s URL %q, want https://…%s", file, k, raw, want[k])
			}
		}
	}
}
