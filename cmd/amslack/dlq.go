package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/amslack/amslack/cmd/internal/app"
)

// runDLQ talks to a running amslack's admin endpoint: the storage is locked
// by that process, and going through it keeps its in-memory queue right.
func runDLQ(cmd string, o options, stdout, stderr io.Writer) int {
	base := strings.TrimSuffix(o.dlqURL, "/") + "/api/v1/dlq"
	var password string
	if o.dlqUser != "" {
		pw, err := os.ReadFile(o.dlqPasswordFile)
		if err != nil {
			fmt.Fprintf(stderr, "amslack dlq: read password: %v\n", err)
			return 2
		}
		password = strings.TrimSpace(string(pw))
	}
	client := &http.Client{Timeout: 30 * time.Second}
	// send makes one request and returns the body of a successful answer,
	// or the exit code after it reported the failure.
	send := func(method, url string) ([]byte, int) {
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			fmt.Fprintf(stderr, "amslack dlq: %v\n", err)
			return nil, 2
		}
		if o.dlqUser != "" {
			req.SetBasicAuth(o.dlqUser, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintf(stderr, "amslack dlq: is amslack running at %s? %v\n", o.dlqURL, err)
			return nil, 1
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if resp.StatusCode >= 300 {
			fmt.Fprintf(stderr, "amslack dlq: %s: %s\n", resp.Status, terminalSafe(strings.TrimSpace(string(body))))
			return nil, 1
		}
		return body, 0
	}
	switch cmd {
	case "dlq list":
		dead, code := listDead(send, base, app.MaxDLQPage, stderr)
		if code != 0 {
			return code
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tAT\tCHANNEL\tRECEIVER\tSTATUS\tATTEMPTS\tRETRIES\tCAUSE\tGROUP KEY")
		for _, d := range dead {
			// Receiver, group key and cause come from Alertmanager's
			// payloads and Slack's answers: escape what a terminal would
			// act on.
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.ID, terminalSafe(d.At), terminalSafe(d.Channel), terminalSafe(d.Receiver),
				terminalSafe(d.Status), d.Attempts, d.Retries, terminalSafe(d.Cause), terminalSafe(d.GroupKey))
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d dead letters\n", len(dead))
	case "dlq retry":
		if _, code := send(http.MethodPost, fmt.Sprintf("%s/%d/retry", base, o.dlqID)); code != 0 {
			return code
		}
		fmt.Fprintf(stdout, "dead letter %d is pending again\n", o.dlqID)
	case "dlq drop":
		if _, code := send(http.MethodDelete, fmt.Sprintf("%s/%d", base, o.dlqID)); code != 0 {
			return code
		}
		fmt.Fprintf(stdout, "dead letter %d dropped\n", o.dlqID)
	}
	return 0
}

// listDead pages through the dead-letter list at base, page dead letters a
// request, each page after the last ID of the one before. It returns the
// exit code of a failure, after reporting it.
func listDead(send func(method, url string) ([]byte, int), base string, page int, stderr io.Writer) ([]app.DeadLetter, int) {
	var dead []app.DeadLetter
	var after uint64
	for {
		body, code := send(http.MethodGet, fmt.Sprintf("%s?after=%d&limit=%d", base, after, page))
		if code != 0 {
			return nil, code
		}
		var got []app.DeadLetter
		if err := json.Unmarshal(body, &got); err != nil {
			fmt.Fprintf(stderr, "amslack dlq: unexpected answer: %v\n", err)
			return nil, 1
		}
		if after > 0 && len(got) > 0 && got[0].ID <= after {
			// A server that does not page: its first answer was the
			// whole list.
			return dead, 0
		}
		dead = append(dead, got...)
		if len(got) < page {
			return dead, 0
		}
		after = got[len(got)-1].ID
	}
}

// terminalSafe returns s as it is when every rune is printable, and
// otherwise as a Go-quoted string (strconv.QuoteToGraphic), in which C0 and
// C1 controls, DEL, format characters such as bidirectional overrides, and
// invalid UTF-8 are visible escapes: ESC would otherwise let a value clear
// the screen or move the cursor, and a line break or tab draw rows and
// columns of its own.
func terminalSafe(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}

// deadLetterID is the ID argument of dlq retry and dlq drop.
type deadLetterID uint64

func (id *deadLetterID) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return fmt.Errorf("%q is not a dead-letter ID: IDs are positive whole numbers, as \"amslack dlq list\" shows in its ID column", s)
	}
	*id = deadLetterID(n)
	return nil
}

func (id *deadLetterID) String() string { return strconv.FormatUint(uint64(*id), 10) }
