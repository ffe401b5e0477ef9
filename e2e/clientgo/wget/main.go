// Command wget is the part of busybox's wget that the pods of charts'
// tests call (`wget NAME:PORT`, -O, -q, -T), built static with Go's own
// resolver. It goes into the image the e2e tests name busybox because
// Debian's static busybox is linked against glibc, whose name lookup
// loads NSS modules a static binary cannot: its wget cannot resolve a
// Service's name, where the real busybox image's (musl) can.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

func main() {
	out := flag.String("O", "", "write to FILE ('-' for stdout; default: the URL's file name, or index.html)")
	quiet := flag.Bool("q", false, "quiet")
	timeout := flag.Int("T", 0, "network timeout in seconds (default none)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wget [-q] [-T SEC] [-O FILE] URL")
		os.Exit(1)
	}
	if err := get(flag.Arg(0), *out, *quiet, time.Duration(*timeout)*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "wget:", err)
		os.Exit(1)
	}
}

// get fetches rawURL (http:// when it names none) into out, as busybox
// does: a status other than 2xx is an error.
func get(rawURL, out string, quiet bool, timeout time.Duration) error {
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(os.Stderr, "Connecting to %s\n", u.Host)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("server returned error: %s", resp.Status)
	}
	if out == "" {
		out = path.Base(u.Path)
		if out == "/" || out == "." || out == "" {
			out = "index.html"
		}
	}
	w := io.Writer(os.Stdout)
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return err
	}
	if !quiet && out != "-" {
		fmt.Fprintf(os.Stderr, "saving to '%s'\n%s saved (%d bytes)\n", out, out, n)
	}
	if f, ok := w.(*os.File); ok && out != "-" {
		return f.Close()
	}
	return nil
}
