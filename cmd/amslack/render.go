package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/amslack/amslack/cmd/internal/app"
	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// renderCommand is `amslack render`: the Block Kit JSON amslack would post
// for a payload, like `amtool template render` for Alertmanager's templates.
type renderCommand struct {
	*kingpin.CmdClause
	data       string
	route      string
	builderURL bool
	now        string
}

func addRenderCommand(a *kingpin.Application) *renderCommand {
	c := &renderCommand{CmdClause: a.Command("render", "Print the Slack message amslack would post for a webhook payload.")}
	c.Flag("data", "Alertmanager webhook payload (JSON file, - for standard input).").Required().StringVar(&c.data)
	c.Flag("route", "Route whose options apply (default: the route the payload matches).").StringVar(&c.route)
	c.Flag("builder-url", "Print a Block Kit Builder link instead of the JSON.").BoolVar(&c.builderURL)
	c.Flag("now", "Time of rendering, RFC 3339 (default: now).").StringVar(&c.now)
	return c
}

func (c *renderCommand) run(o options, stdout, stderr io.Writer) int {
	cfg, err := app.LoadConfig(o.configFile)
	if err != nil {
		fmt.Fprintf(stderr, "amslack render: %v\n", err)
		return 1
	}
	var b []byte
	if c.data == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(c.data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "amslack render: %v\n", err)
		return 1
	}
	m, err := receiver.Decode(b)
	if err != nil {
		fmt.Fprintf(stderr, "amslack render: %s: %v\n", c.data, err)
		return 1
	}
	now := time.Now()
	if c.now != "" {
		if now, err = time.Parse(time.RFC3339, c.now); err != nil {
			fmt.Fprintf(stderr, "amslack render: --now: %v\n", err)
			return 2
		}
	}
	opts, err := app.RenderOptions(cfg, m, c.route)
	if err != nil {
		fmt.Fprintf(stderr, "amslack render: %v\n", err)
		return 1
	}
	msg := render.Render(render.Input{
		Group: m.Data, GroupKey: m.GroupKey, TruncatedAlerts: m.TruncatedAlerts,
		Options: opts, Controls: interact.Controls(alertgroup.State{}, opts), Now: now,
	})
	for _, e := range msg.TemplateErrors {
		fmt.Fprintf(stderr, "amslack render: template of %s failed, rendered without it: %v\n", e.Part, e.Err)
	}
	if err := render.Validate(msg); err != nil {
		fmt.Fprintf(stderr, "amslack render: the message breaks a Slack limit: %v\n", err)
		return 1
	}
	if c.builderURL {
		blocks, _ := json.Marshal(map[string]any{"blocks": msg.Blocks.BlockSet})
		fmt.Fprintln(stdout, "https://app.slack.com/block-kit-builder/#"+url.PathEscape(string(blocks)))
		return 0
	}
	out, err := render.MarshalIndent(msg)
	if err != nil {
		fmt.Fprintf(stderr, "amslack render: %v\n", err)
		return 1
	}
	stdout.Write(append(out, '\n'))
	return 0
}
