package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/amslack/amslack/cmd/internal/app"
)

// runDLQ talks to a running amslack's admin endpoint: the storage is locked
// by that process, and going through it keeps its in-memory queue right.
func runDLQ(cmd string, o options, stdout, stderr io.Writer) int {
	base := strings.TrimSuffix(o.dlqURL, "/") + "/api/v1/dlq"
	var req *http.Request
	var err error
	switch cmd {
	case "dlq list":
		req, err = http.NewRequest(http.MethodGet, base, nil)
	case "dlq retry":
		req, err = http.NewRequest(http.MethodPost, fmt.Sprintf("%s/%d/retry", base, o.dlqID), nil)
	case "dlq drop":
		req, err = http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/%d", base, o.dlqID), nil)
	}
	if err != nil {
		fmt.Fprintf(stderr, "amslack dlq: %v\n", err)
		return 2
	}
	if o.dlqUser != "" {
		pw, err := os.ReadFile(o.dlqPasswordFile)
		if err != nil {
			fmt.Fprintf(stderr, "amslack dlq: read password: %v\n", err)
			return 2
		}
		req.SetBasicAuth(o.dlqUser, strings.TrimSpace(string(pw)))
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "amslack dlq: is amslack running at %s? %v\n", o.dlqURL, err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode >= 300 {
		fmt.Fprintf(stderr, "amslack dlq: %s: %s\n", resp.Status, strings.TrimSpace(string(body)))
		return 1
	}
	switch cmd {
	case "dlq list":
		var dead []app.DeadLetter
		if err := json.Unmarshal(body, &dead); err != nil {
			fmt.Fprintf(stderr, "amslack dlq: unexpected answer: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tAT\tCHANNEL\tRECEIVER\tSTATUS\tATTEMPTS\tCAUSE\tGROUP KEY")
		for _, d := range dead {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.At, d.Channel, d.Receiver, d.Status, d.Attempts, d.Cause, d.GroupKey)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d dead letters\n", len(dead))
	case "dlq retry":
		fmt.Fprintf(stdout, "dead letter %d is pending again\n", o.dlqID)
	case "dlq drop":
		fmt.Fprintf(stdout, "dead letter %d dropped\n", o.dlqID)
	}
	return 0
}
