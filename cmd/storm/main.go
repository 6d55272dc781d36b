// Command storm runs amslack's webhook → outbox → sender path in process
// against a fake Slack on loopback, sends it a storm of Alertmanager
// notifications and then a critical alert behind a backlog, and reports
// webhook latency against a bare fsync, Slack calls against the minimum,
// the delivered rate against Slack's per-channel limit, the critical alert's
// time to Slack, lost and duplicated groups, and memory. With --replicas and
// --redis it runs several replicas that share Redis, and sends each group's
// notifications to one of them, unevenly with --skew.
//
// It exits non-zero if an accepted notification was lost, if amslack called
// Slack before a Retry-After had passed, or if --timeout ended the storm.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run parses the flags, runs the storm and prints its report; it returns the
// exit code.
func run(args []string, stdout, stderr io.Writer) int {
	o := defaultOptions()
	fs := flag.NewFlagSet("storm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Groups, "groups", o.Groups, "Alert groups in the storm.")
	fs.IntVar(&o.Channels, "channels", o.Channels, "Slack channels; group i goes to channel i mod channels.")
	fs.IntVar(&o.Notifications, "notifications", o.Notifications, "Notifications per group, each a real change: firing 1 alert, firing 2, …, then resolved.")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "Webhooks per second on an open-loop schedule; 0 sends as fast as --concurrency allows.")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "Webhooks in flight at most.")
	fs.Float64Var(&o.ChannelRate, "channel-rate", o.ChannelRate, "Messages per second per channel, for the fake Slack and amslack's delivery.channel_rate.")
	fs.IntVar(&o.ChannelBurst, "channel-burst", o.ChannelBurst, "Burst per channel, for the fake Slack and amslack's delivery.channel_burst.")
	fs.IntVar(&o.UpdatePerMinute, "update-per-minute", o.UpdatePerMinute, "chat.update calls per minute, for the fake Slack and amslack.")
	fs.IntVar(&o.WorkspacePerMinute, "workspace-per-minute", o.WorkspacePerMinute, "Messages per minute in the workspace, for the fake Slack and amslack.")
	fs.DurationVar(&o.RetryAfter, "retry-after", o.RetryAfter, "Least Retry-After the fake Slack answers a 429 with.")
	fs.DurationVar(&o.Latency, "latency", o.Latency, "Fake Slack latency per request.")
	fs.IntVar(&o.CriticalBacklog, "critical-backlog", o.CriticalBacklog, "Warnings queued in one channel before the critical alert.")
	fs.IntVar(&o.CriticalChannels, "critical-channels", o.CriticalChannels, "Spread the critical alert's backlog over this many channels of its own, round robin, and send the critical alert to one more; 0 queues backlog and critical alert in the first storm channel.")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "Longest the whole run may take; then it reports what was not delivered and fails.")
	fs.StringVar(&o.Storage, "storage", "", "amslack's storage directory (must not hold a database yet); a temporary one if empty.")
	fs.IntVar(&o.BaselineWrites, "baseline-writes", o.BaselineWrites, "fsync'd writes of the baseline.")
	fs.IntVar(&o.Replicas, "replicas", o.Replicas, "amslack replicas in this process; more than one need --redis.")
	fs.StringVar(&o.Redis, "redis", "", "host:port of a Redis that the replicas share the outbox, group state and rate limits in, under a fresh key prefix deleted at the end; empty for the embedded bbolt outbox.")
	fs.Float64Var(&o.Skew, "skew", o.Skew, "Share of the groups sent to replica 0, the rest spread evenly over the others; 0 spreads all evenly. A group's notifications all go to one replica.")
	asJSON := fs.Bool("json", false, "Print the report as JSON.")
	quiet := fs.Bool("quiet", false, "No progress lines on stderr.")
	logLevel := fs.String("log-level", "error", "Level of amslack's logs on stderr: debug, info, warn or error.")
	cpuProfile := fs.String("cpuprofile", "", "Write a CPU profile of the whole run to this file.")
	blockProfile := fs.String("blockprofile", "", "Write a profile of where goroutines waited (channels, selects, locks, timers) to this file.")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "storm: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "storm: --log-level: %v\n", err)
		return 2
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if !*quiet {
		o.Progress = stderr
	}

	stopProfiles, err := startProfiles(*cpuProfile, *blockProfile)
	if err != nil {
		fmt.Fprintf(stderr, "storm: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := storm(ctx, o)
	if perr := stopProfiles(); perr != nil {
		fmt.Fprintf(stderr, "storm: %v\n", perr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "storm: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "storm: %v\n", err)
		return 1
	}
	if rep.failed() {
		return 1
	}
	return 0
}

// startProfiles starts the profiles asked for and returns the function that
// writes them.
func startProfiles(cpuFile, blockFile string) (func() error, error) {
	var cpu *os.File
	if cpuFile != "" {
		f, err := os.Create(cpuFile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		cpu = f
	}
	if blockFile != "" {
		// Every blocking event is recorded: the storm looks for where
		// amslack's channel workers wait, not for hot spots.
		runtime.SetBlockProfileRate(1)
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if blockFile != "" {
			f, err := os.Create(blockFile)
			if err != nil {
				return err
			}
			errs = append(errs, pprof.Lookup("block").WriteTo(f, 0), f.Close())
			runtime.SetBlockProfileRate(0)
		}
		return errors.Join(errs...)
	}, nil
}
