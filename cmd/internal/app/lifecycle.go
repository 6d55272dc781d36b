package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/exporter-toolkit/web"
)

// amslack's lifecycle. Start binds the listeners first, so that an address
// in use fails the start before anything runs; then it starts the
// background parts (the sender, the interaction workers, Socket Mode and the
// hourly prune) and serves.
//
// Stop undoes it in an order that loses nothing accepted:
//
//  1. Fail readiness and refuse new webhooks with 503, which Alertmanager
//     keeps and sends again to the next instance or after the restart.
//  2. Stop accepting connections and let the requests in flight finish,
//     within Options.ShutdownTimeout.
//  3. Stop the background parts. The sender gets slack.timeout on top of
//     Options.ShutdownTimeout: its Slack call in flight either completes or
//     the notification stays pending on disk.
//  4. Close the storage, but only once the sender has stopped: closing it
//     under a send would lose the record of a message Slack already has,
//     which would be posted twice after the restart.

// lifecycle holds the listeners' settings and what Start started.
type lifecycle struct {
	// web is the exporter-toolkit web configuration; tls is the listeners'
	// TLS configuration from it, nil without TLS.
	web *web.Config
	tls *tls.Config

	// addr is the main listener's address once Start bound it.
	addr net.Addr
	// servers serve the listeners; serving waits for their Serve calls.
	servers []*http.Server
	serving sync.WaitGroup
	// stopParts ends the background parts, and partsDone is closed once
	// they all returned; nil before Start.
	stopParts context.CancelFunc
	partsDone chan struct{}
	// failed receives the error of each listener or background part that
	// stopped on its own: two listeners and the background parts at most.
	failed chan error
}

// init reads the web configuration at webConfigFile ("" for none), so that
// a bad one fails New before the storage opens.
func (l *lifecycle) init(webConfigFile string) error {
	l.failed = make(chan error, 3)
	c, err := loadWebConfig(webConfigFile)
	if err != nil {
		return fmt.Errorf("invalid web configuration: %w", err)
	}
	l.web = c
	if !tlsEnabled(c) {
		return nil
	}
	tc, err := web.ConfigToTLSConfig(&c.TLSConfig)
	if err != nil {
		return fmt.Errorf("invalid TLS configuration: %w", err)
	}
	// Read the certificates again for each connection, so that renewed
	// ones apply without a restart, as the exporter toolkit does.
	tc.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c, err := loadWebConfig(webConfigFile)
		if err != nil {
			return nil, err
		}
		return web.ConfigToTLSConfig(&c.TLSConfig)
	}
	l.tls = tc
	return nil
}

// Start listens on Options.ListenAddress, and on AdminListenAddress when
// set, starts the background parts and serves. It returns once amslack is
// serving, or with the error that kept a listener from binding, when nothing
// runs. ctx bounds the binding only: what Start starts runs until Stop, and
// a listener or part that fails on its own is reported on Failed.
func (a *App) Start(ctx context.Context) error {
	if a.life.partsDone != nil {
		return errors.New("app: Start called twice")
	}
	ln, err := a.listen(ctx, a.opts.ListenAddress)
	if err != nil {
		return err
	}
	auth := basicAuth(a.life.web)
	srv := newHTTPServer(a.handler(auth), a.logger)
	// With an admin listener, the admin endpoints are served there alone:
	// on a shared listener they trust loopback peers, which a proxy or a
	// mesh sidecar on the same host makes of every request.
	var adminLn net.Listener
	var adminSrv *http.Server
	if a.opts.AdminListenAddress != "" {
		if adminLn, err = a.listen(ctx, a.opts.AdminListenAddress); err != nil {
			ln.Close()
			return err
		}
		srv.Handler = a.publicHandler()
		adminSrv = newHTTPServer(a.adminHandler(auth), a.logger)
	}

	// The parts outlive ctx: only Stop ends them, after the listeners.
	runCtx, stopParts := context.WithCancel(context.WithoutCancel(ctx))
	a.life.stopParts = stopParts
	a.life.partsDone = make(chan struct{})
	go func() {
		defer close(a.life.partsDone)
		if err := a.run(runCtx); err != nil {
			a.life.failed <- err
		}
	}()
	// Ready once Start returns, not only once run got going.
	a.ready.Store(true)
	a.life.addr = ln.Addr()
	tlsOn := a.life.tls != nil
	a.logger.Info("Listening", "address", ln.Addr().String(), "tls", tlsOn)
	a.logPreviewURL(ln.Addr(), tlsOn)
	a.serve(srv, ln)
	if adminSrv != nil {
		a.logger.Info("Listening for the admin endpoints", "address", adminLn.Addr().String(), "tls", tlsOn)
		a.serve(adminSrv, adminLn)
	}
	return nil
}

// listen binds addr, with TLS when the web configuration asks for it.
func (a *App) listen(ctx context.Context, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, errors.New("no listen address")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if a.life.tls != nil {
		ln = tls.NewListener(ln, a.life.tls)
	}
	return ln, nil
}

// serve serves ln with srv until Stop, and reports on Failed if srv stops
// on its own.
func (a *App) serve(srv *http.Server, ln net.Listener) {
	a.life.servers = append(a.life.servers, srv)
	addr := ln.Addr().String()
	a.life.serving.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.life.failed <- fmt.Errorf("HTTP server on %s: %w", addr, err)
		}
	})
}

// newHTTPServer returns a server for h with amslack's timeouts.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Addr returns the main listener's address once Start returned, and nil
// before.
func (a *App) Addr() net.Addr { return a.life.addr }

// Failed receives the error of a listener or a background part that
// stopped while amslack ran. amslack no longer does all its work then, and
// should be stopped.
func (a *App) Failed() <-chan error { return a.life.failed }

// errSendsPending is Stop's error when the background parts did not stop
// in time.
var errSendsPending = errors.New("background work did not stop in time; pending sends stay on disk")

// Stop stops what Start started, in the order above, and releases what New
// opened; call it once, whether or not Start ran or succeeded. ctx can cut
// the waits short. What did not finish in time is in the error; nothing
// accepted is lost by it.
func (a *App) Stop(ctx context.Context) error {
	a.startShutdown()
	var errs []error
	hctx, cancel := context.WithTimeout(ctx, a.opts.ShutdownTimeout)
	defer cancel()
	for _, srv := range a.life.servers {
		if err := srv.Shutdown(hctx); err != nil {
			errs = append(errs, fmt.Errorf("HTTP shutdown did not finish in time: %w", err))
		}
	}
	a.life.serving.Wait()
	if a.life.stopParts != nil {
		a.life.stopParts()
		t := time.NewTimer(a.opts.ShutdownTimeout + a.slackTimeout())
		defer t.Stop()
		select {
		case <-a.life.partsDone:
		case <-t.C:
			return errors.Join(append(errs, errSendsPending)...)
		case <-ctx.Done():
			return errors.Join(append(errs, errSendsPending)...)
		}
	}
	if err := a.closeStorage(); err != nil {
		errs = append(errs, fmt.Errorf("close storage: %w", err))
	}
	return errors.Join(errs...)
}

// startShutdown makes amslack unready and refuses new webhooks with 503, so
// that Alertmanager keeps them for the next instance or the restart.
func (a *App) startShutdown() {
	a.ready.Store(false)
	a.webhook.Close()
	if a.preview != nil {
		// Live-update streams of open preview pages would hold up the
		// HTTP server's shutdown.
		a.preview.Close()
	}
}

// slackTimeout bounds one Slack call.
func (a *App) slackTimeout() time.Duration { return time.Duration(a.cfg.Load().Slack.Timeout) }

// closeStorage releases the storage and the audit log.
func (a *App) closeStorage() error {
	errs := []error{a.db.Close()}
	for _, c := range a.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// run runs the background parts until ctx ends or one of them fails, then
// waits for them, and returns the failure. Socket Mode stopping is not one:
// alerts still reach Slack without it, so it is logged and the rest runs on.
func (a *App) run(ctx context.Context) error {
	a.ready.Store(true)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// failures holds one error per part that can fail.
	failures := make(chan error, 3)
	fail := func(err error) {
		failures <- err
		cancel()
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.sender.Run(ctx); err != nil {
			fail(fmt.Errorf("sender: %w", err))
		}
	})
	wg.Go(func() { a.prune(ctx) })
	if a.shared != nil {
		wg.Go(func() {
			if err := a.shared.Run(ctx); err != nil {
				fail(fmt.Errorf("shared outbox: %w", err))
			}
		})
	}
	if a.interact != nil {
		wg.Go(func() {
			if err := a.interact.Run(ctx); err != nil {
				fail(fmt.Errorf("interaction handler: %w", err))
			}
		})
	}
	if a.socket != nil {
		wg.Go(func() {
			if err := a.interact.RunSocketMode(ctx, a.socket); err != nil {
				a.logger.Error("Socket Mode stopped; Slack's interactions no longer arrive", "err", err)
			}
		})
	}
	<-ctx.Done()
	wg.Wait()
	close(failures)
	var errs []error
	for err := range failures {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// prune drops, once an hour, the state of groups resolved or last notified
// longer ago than delivery.retention, and the dead letters older than
// delivery.dead_letter_retention.
func (a *App) prune(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	pruneErrors := promauto.With(a.reg).NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "prune_errors_total",
		Help: "Hourly prunes that failed, of alert groups (what=groups) or of dead letters (what=dead_letters).",
	}, []string{"what"})
	pruneErrors.WithLabelValues("groups")
	pruneErrors.WithLabelValues("dead_letters")
	for {
		d := a.cfg.Load().Delivery
		if n, err := a.store.Prune(ctx, time.Now().Add(-time.Duration(d.Retention))); err != nil {
			pruneErrors.WithLabelValues("groups").Inc()
			a.logger.Error("Pruning alert groups failed", "err", err)
		} else if n > 0 {
			a.logger.Info("Pruned alert groups resolved or not notified within delivery.retention", "count", n)
		}
		if _, err := a.outbox.PruneDead(ctx, time.Now().Add(-time.Duration(d.DeadLetterRetention))); err != nil {
			pruneErrors.WithLabelValues("dead_letters").Inc()
			a.logger.Error("Pruning dead letters failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
