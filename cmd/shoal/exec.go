package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/net/websocket"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/api"
)

// exitCodeError carries a remote command's exit code to main, which exits
// with it as kubectl exec does.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.code)
}

// ExitCode is what main exits with.
func (e *exitCodeError) ExitCode() int { return e.code }

func newExecCmd(g *globalFlags) *cobra.Command {
	var (
		container  string
		stdin, tty bool
	)
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-it] -- COMMAND [ARG...]",
		Short: "Run a command in a container of a pod",
		Example: `  shoal exec web -- ls /
  shoal exec web -it -- sh`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return errors.New("usage: shoal exec POD [-c CONTAINER] [-it] -- COMMAND [ARG...]")
			}
			q := url.Values{"command": args[1:]}
			if container != "" {
				q.Set("container", container)
			}
			q.Set("stdout", "true")
			if stdin {
				q.Set("stdin", "true")
			}
			if tty {
				q.Set("tty", "true")
			} else {
				q.Set("stderr", "true")
			}
			path := podPath(namespaceOr(g.namespace), args[0]) + "/exec?" + q.Encode()
			return g.client().exec(cmd.Context(), path, stdin, tty, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&container, "container", "c", "", "container name (needed when the pod has more than one)")
	cmd.Flags().BoolVarP(&stdin, "stdin", "i", false, "pass stdin to the command")
	cmd.Flags().BoolVarP(&tty, "tty", "t", false, "give the command a terminal")
	return cmd
}

// The channels of Kubernetes' remote command WebSocket protocol.
const (
	wsStdin  = 0
	wsStdout = 1
	wsStderr = 2
	wsError  = 3
	wsResize = 4
	wsClose  = 255
)

// dialWebSocket opens a WebSocket to the agent with the CLI's token and CA.
// A refused upgrade is retried as a plain GET to read the Status that says why.
func (c *client) dialWebSocket(ctx context.Context, path string, protocols ...string) (*websocket.Conn, error) {
	if c.err != nil {
		return nil, c.err
	}
	wsURL := "ws" + strings.TrimPrefix(c.base, "http") + path
	cfg, err := websocket.NewConfig(wsURL, c.base)
	if err != nil {
		return nil, err
	}
	cfg.Protocol = protocols
	if c.token != "" {
		cfg.Header.Set("Authorization", "Bearer "+c.token)
	}
	if tr, ok := c.http.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		cfg.TlsConfig = tr.TLSClientConfig.Clone()
	}
	ws, err := cfg.DialContext(ctx)
	if err == nil {
		ws.PayloadType = websocket.BinaryFrame
		return ws, nil
	}
	if gerr := c.getJSON(ctx, path, nil); gerr != nil {
		return nil, gerr
	}
	return nil, fmt.Errorf("open a WebSocket to %s: %w", c.base, err)
}

func (c *client) exec(ctx context.Context, path string, stdin, tty bool, stdout, stderr io.Writer) error {
	ws, err := c.dialWebSocket(ctx, path, "v5.channel.k8s.io")
	if err != nil {
		return err
	}
	defer ws.Close()
	var sendMu sync.Mutex
	send := func(ch byte, data []byte) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return websocket.Message.Send(ws, append([]byte{ch}, data...))
	}
	if tty {
		restore, err := rawTerminal(int(os.Stdin.Fd()))
		if err != nil {
			return err
		}
		defer restore()
		go sendResizes(ctx, int(os.Stdin.Fd()), send)
	}
	if stdin {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := os.Stdin.Read(buf)
				if n > 0 && send(wsStdin, buf[:n]) != nil {
					return
				}
				if err != nil {
					_ = send(wsClose, []byte{wsStdin})
					return
				}
			}
		}()
	}
	var status []byte
	for {
		var msg []byte
		if err := websocket.Message.Receive(ws, &msg); err != nil {
			if errors.Is(err, io.EOF) || status != nil {
				break
			}
			return fmt.Errorf("exec stream: %w", err)
		}
		if len(msg) == 0 {
			continue
		}
		switch msg[0] {
		case wsStdout:
			stdout.Write(msg[1:])
		case wsStderr:
			stderr.Write(msg[1:])
		case wsError:
			status = append(status, msg[1:]...)
		}
	}
	return execResult(status)
}

// execResult reads the Status of the error channel: nothing or Success is
// exit code 0, NonZeroExitCode carries the code.
func execResult(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var st api.Status
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("exec: %s", b)
	}
	if st.Status == "Success" {
		return nil
	}
	if st.Reason == "NonZeroExitCode" && st.Details != nil {
		for _, c := range st.Details.Causes {
			if c.Type == "ExitCode" {
				if code, err := strconv.Atoi(c.Message); err == nil {
					return &exitCodeError{code: code}
				}
			}
		}
	}
	return &apiError{Status: st}
}

// rawTerminal puts the terminal in raw mode, as ssh does for -t, and
// returns how to restore it.
func rawTerminal(fd int) (func(), error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("-t needs a terminal on stdin: %w", err)
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, fmt.Errorf("raw terminal: %w", err)
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// sendResizes sends the terminal's size now and whenever it changes.
func sendResizes(ctx context.Context, fd int, send func(byte, []byte) error) {
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	for {
		if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
			b, _ := json.Marshal(struct{ Width, Height uint16 }{ws.Col, ws.Row})
			if send(wsResize, b) != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-winch:
		}
	}
}
