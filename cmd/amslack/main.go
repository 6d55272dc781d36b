// Command amslack receives Alertmanager's webhook notifications and turns
// Slack into a control surface for alerts.
package main

import (
	_ "time/tzdata" // tz in templates works in minimal images

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"

	"github.com/amslack/amslack/cmd/internal/app"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// options are the process settings from flags.
type options struct {
	configFile      string
	listenAddress   string
	adminAddress    string
	webConfigFile   string
	storagePath     string
	shutdownTimeout time.Duration
	log             promslog.Config

	checkFile    string
	checkNoFiles bool

	dlqURL, dlqUser, dlqPasswordFile string
	dlqID                            uint64
}

func run(args []string, stdout, stderr io.Writer) int {
	o := options{log: promslog.Config{Writer: stderr}}
	a := kingpin.New("amslack", "Slack for Prometheus Alertmanager: alert groups as Block Kit messages you can act on.")
	a.UsageWriter(stderr)
	a.ErrorWriter(stderr)
	a.Version(version.Print("amslack"))
	a.HelpFlag.Short('h')
	a.Flag("config.file", "amslack configuration file.").Default("amslack.yml").StringVar(&o.configFile)
	a.Flag("web.listen-address", "Address to listen on for Alertmanager, Slack and the admin endpoints.").Default(":9097").StringVar(&o.listenAddress)
	a.Flag("web.admin-listen-address", "Address of a separate listener for /metrics, /-/reload and the dead-letter API, which then leave --web.listen-address. Bind it where only operators and Prometheus reach it.").Default("").StringVar(&o.adminAddress)
	a.Flag("web.config.file", "Exporter-toolkit web configuration: TLS for the listener, and basic auth for /metrics and the admin endpoints.").Default("").StringVar(&o.webConfigFile)
	a.Flag("storage.path", "Directory of the durable outbox and state.").Default("data/").StringVar(&o.storagePath)
	a.Flag("web.shutdown-timeout", "How long shutdown waits for in-flight sends.").Default("10s").DurationVar(&o.shutdownTimeout)
	promslogflag.AddFlags(a, &o.log)

	serve := a.Command("run", "Run amslack (the default).").Default()
	check := a.Command("check-config", "Validate a configuration file and say what is wrong.")
	check.Arg("file", "Configuration file (default: --config.file).").StringVar(&o.checkFile)
	check.Flag("no-files", "Read no secret file the configuration names, to check a file away from its secrets (an example, or in CI); the keys that must be set are still checked.").BoolVar(&o.checkNoFiles)
	dlq := a.Command("dlq", "Inspect, retry and drop dead-lettered notifications of a running amslack.")
	dlq.Flag("amslack.url", "amslack's address.").Default("http://127.0.0.1:9097").StringVar(&o.dlqURL)
	dlq.Flag("username", "Basic auth user of --web.config.file.").StringVar(&o.dlqUser)
	dlq.Flag("password-file", "File holding the basic auth password.").StringVar(&o.dlqPasswordFile)
	dlqList := dlq.Command("list", "List dead letters.")
	dlqRetry := dlq.Command("retry", "Send a dead letter again.")
	dlqRetry.Arg("id", "Dead letter id, as amslack dlq list shows.").Required().SetValue((*deadLetterID)(&o.dlqID))
	dlqDrop := dlq.Command("drop", "Delete a dead letter.")
	dlqDrop.Arg("id", "Dead letter id, as amslack dlq list shows.").Required().SetValue((*deadLetterID)(&o.dlqID))
	renderCmd := addRenderCommand(a)

	cmd, err := a.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "amslack: %v\n", err)
		return 2
	}
	switch cmd {
	case serve.FullCommand():
		return runServer(o)
	case check.FullCommand():
		return checkConfig(o, stdout, stderr)
	case dlqList.FullCommand(), dlqRetry.FullCommand(), dlqDrop.FullCommand():
		return runDLQ(cmd, o, stdout, stderr)
	case renderCmd.FullCommand():
		return renderCmd.run(o, stdout, stderr)
	}
	return 2
}

func checkConfig(o options, stdout, stderr io.Writer) int {
	file := o.checkFile
	if file == "" {
		file = o.configFile
	}
	cfg, err := app.LoadConfig(file)
	if err == nil {
		err = cfg.Locate(app.CheckSecrets(cfg.Config, !o.checkNoFiles))
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s is not valid:\n", file)
		for _, e := range splitErrors(err) {
			fmt.Fprintf(stderr, "  - %v\n", e)
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s is valid: %d routes, %d actions\n", file, len(cfg.Routes), len(cfg.Actions))
	if o.checkNoFiles {
		fmt.Fprintln(stdout, "Secret files were not read (--no-files).")
	}
	return 0
}

// splitErrors lists the errors an errors.Join holds, one per line.
func splitErrors(err error) []error {
	var errs []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		errs = append(errs, e)
	}
	walk(err)
	return errs
}

// runServer runs amslack until SIGTERM or SIGINT, or until a listener or a
// background part fails, and reloads the configuration on SIGHUP.
func runServer(o options) int {
	logger := promslog.New(&o.log)
	logger.Info("Starting amslack", "version", version.Info(), "build_context", version.BuildContext())
	// The container image ships no configuration, so this is the first
	// thing a container started without one meets.
	if _, err := os.Stat(o.configFile); errors.Is(err, os.ErrNotExist) {
		logger.Error("Cannot start: the configuration file does not exist. Write one (examples/amslack.yml in amslack's repository is a commented example) and pass it with --config.file, or mount it at this path in a container", "file", o.configFile)
		return 1
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("amslack"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	am, err := app.New(app.Options{
		ConfigFile:         o.configFile,
		StoragePath:        o.storagePath,
		Logger:             logger,
		Registry:           reg,
		ShutdownTimeout:    o.shutdownTimeout,
		ListenAddress:      o.listenAddress,
		AdminListenAddress: o.adminAddress,
		WebConfigFile:      o.webConfigFile,
	})
	if err != nil {
		logger.Error("Cannot start", "err", err)
		return 1
	}
	if err := am.Start(context.Background()); err != nil {
		logger.Error("Cannot start", "err", err)
		// Nothing runs: this only releases the storage.
		am.Stop(context.Background())
		return 1
	}
	code := wait(am, logger)
	if err := am.Stop(context.Background()); err != nil {
		logger.Warn("Shutdown did not finish cleanly", "err", err)
	}
	logger.Info("Stopped")
	return code
}

// wait reloads the configuration on SIGHUP until SIGTERM or SIGINT, or
// until amslack fails, and returns the exit code.
func wait(am *app.App, logger *slog.Logger) int {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(signals)
	for {
		select {
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				am.Reload()
				continue
			}
			logger.Info("Shutting down", "signal", sig.String())
			return 0
		case err := <-am.Failed():
			logger.Error("Shutting down after a failure", "err", err)
			return 1
		}
	}
}
