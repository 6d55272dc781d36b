package app

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"
)

// loadWebConfig reads an exporter-toolkit web configuration file (TLS and
// basic_auth_users) and checks it with the toolkit's own validation.
func loadWebConfig(path string) (*web.Config, error) {
	if path == "" {
		return &web.Config{}, nil
	}
	if err := web.Validate(path); err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &web.Config{}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	c.TLSConfig.SetDirectory(dirOf(path))
	return c, nil
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[:i]
		}
	}
	return "."
}

// basicAuth returns a middleware that demands one of the web config's
// basic_auth_users (bcrypt hashes), or nil when there are none.
func basicAuth(c *web.Config) func(http.Handler) http.Handler {
	if len(c.Users) == 0 {
		return nil
	}
	users := map[string][]byte{}
	for u, h := range c.Users {
		users[u] = []byte(h)
	}
	// bcrypt is slow on purpose; remember what was checked so that a
	// Prometheus scrape every few seconds does not cost a bcrypt each.
	var mu sync.Mutex
	checked := map[[32]byte]bool{}
	// A hash to compare against for unknown users, so that timing does not
	// reveal which users exist.
	dummy, _ := bcrypt.GenerateFromPassword([]byte("amslack-unknown-user"), bcrypt.MinCost)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if ok {
				hash, known := users[u]
				if !known {
					hash = dummy
				}
				key := sha256.Sum256([]byte(u + "\x00" + p + "\x00" + string(hash)))
				mu.Lock()
				good, seen := checked[key]
				mu.Unlock()
				if !seen {
					good = bcrypt.CompareHashAndPassword(hash, []byte(p)) == nil && known
					mu.Lock()
					if len(checked) > 1000 {
						clear(checked)
					}
					checked[key] = good
					mu.Unlock()
				}
				if good {
					next.ServeHTTP(w, r)
					return
				}
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="amslack admin"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		})
	}
}

// tlsEnabled reports whether the web config asks for TLS.
func tlsEnabled(c *web.Config) bool {
	return c.TLSConfig.TLSCertPath != "" || c.TLSConfig.TLSCert != ""
}
