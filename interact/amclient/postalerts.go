package amclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// PostableAlert is an alert as Prometheus sends it to Alertmanager: the
// postableAlert of Alertmanager's OpenAPI specification (api/v2/openapi.yaml).
// A zero EndsAt leaves the end to Alertmanager, which resolves the alert
// after its resolve_timeout unless the alert is sent again; an EndsAt in the
// past resolves it.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// PostAlerts sends alerts to Alertmanager (POST /api/v2/alerts), which
// groups and routes them as it does those of Prometheus. An error that is
// not a *StatusError means that no Alertmanager answered.
func (c *Client) PostAlerts(ctx context.Context, alerts []PostableAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	if err := c.do(ctx, http.MethodPost, "/api/v2/alerts", nil, body, nil); err != nil {
		return fmt.Errorf("post alerts: %w", err)
	}
	return nil
}
