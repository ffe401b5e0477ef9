package e2e

import (
	"errors"
	"fmt"
	"strings"
)

// errAnswerShape is an HTTP answer whose body is not the test image's
// /cgi-bin/ip line: a defect, not a request to retry.
var errAnswerShape = errors.New("want the body ADDR HOSTNAME")

// callerAndServer reads the answer of the test image's /cgi-bin/ip as
// busybox nc prints it raw (after any lines a script printed first): the
// address the server saw calling and the server's hostname. The CGI's own
// headers end in a bare blank line, so the body is the answer's last line.
func callerAndServer(out string) (caller, server string, err error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	status := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "HTTP/1.") {
			status = i
			break
		}
	}
	if status < 0 || status == len(lines)-1 {
		return "", "", fmt.Errorf("no HTTP answer in %q", out)
	}
	fields := strings.Fields(lines[len(lines)-1])
	if len(fields) != 2 {
		return "", "", fmt.Errorf("answer %q: %w", out, errAnswerShape)
	}
	// httpd listens on IPv6 too and names an IPv4 caller mapped.
	return strings.TrimSuffix(strings.TrimPrefix(fields[0], "[::ffff:"), "]"), fields[1], nil
}
