package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// maxImageBytes bounds an uploaded image archive.
const maxImageBytes = 4 << 30

type importResult struct {
	Images []string          `json:"images"`
	Nodes  map[string]string `json:"nodes"` // node -> "ok" or what failed
}

// importImage imports an archive into this node and, unless ?node names
// one node, into every other live node of the fleet: with no registry,
// every node that may run a pod needs the image.
func (srv *Server) importImage(w http.ResponseWriter, r *http.Request) {
	if srv.forwardToNode(w, r) {
		return
	}
	target := r.URL.Query().Get("node")
	f, err := os.CreateTemp(srv.cfg.DataDir, "import-*.tar")
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	n, err := io.Copy(f, http.MaxBytesReader(w, r.Body, maxImageBytes))
	if err != nil {
		writeError(w, srv.log, &badRequest{reason: "BadRequest", code: http.StatusBadRequest, err: fmt.Errorf("read image archive: %w", err)})
		return
	}
	res := importResult{Nodes: map[string]string{}}
	res.Images, err = srv.importLocal(r.Context(), f)
	res.Nodes[srv.cfg.Name] = "ok"
	if err != nil {
		res.Nodes[srv.cfg.Name] = err.Error()
	}
	if target == "" {
		for _, m := range srv.members() {
			if m.Name == srv.cfg.Name || !m.Alive {
				continue
			}
			res.Nodes[m.Name] = "ok"
			if err := srv.pushImage(r.Context(), m.API, m.Name, f, n); err != nil {
				res.Nodes[m.Name] = err.Error()
			}
		}
	}
	writeJSON(w, http.StatusOK, res)
}

func (srv *Server) importLocal(ctx context.Context, f *os.File) ([]string, error) {
	rt := srv.runtime()
	if rt == nil {
		return nil, fmt.Errorf("containerd is not connected yet on %s", srv.cfg.Name)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	names, err := rt.ImportImage(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

func (srv *Server) pushImage(ctx context.Context, addr, node string, f *os.File, size int64) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	u := "http://" + addr + "/shoal/v1/images?node=" + url.QueryEscape(node)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, io.NopCloser(f))
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/x-tar")
	req.Header.Set(forwardedHeader, strconv.Itoa(maxHops))
	resp, err := srv.internalClient(0).Do(req)
	if err != nil {
		return fmt.Errorf("send to %s: %w", node, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s answered HTTP %d: %s", node, resp.StatusCode, b)
	}
	return nil
}

func (srv *Server) listImages(w http.ResponseWriter, r *http.Request) {
	if srv.forwardToNode(w, r) {
		return
	}
	rt := srv.runtime()
	if rt == nil {
		writeJSON(w, http.StatusServiceUnavailable, api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure", Reason: "ServiceUnavailable", Code: 503, Message: "containerd is not connected yet"})
		return
	}
	names, err := rt.ListImages(r.Context())
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	sort.Strings(names)
	writeJSON(w, http.StatusOK, map[string][]string{"images": names})
}

// removeImage removes ?name from this node and, unless ?node names one
// node, from every other live node; a node where a container uses it keeps
// it and says so.
func (srv *Server) removeImage(w http.ResponseWriter, r *http.Request) {
	if srv.forwardToNode(w, r) {
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		writeError(w, srv.log, invalid(&api.FieldError{Path: "name", Detail: "required: the image to remove"}))
		return
	}
	res := importResult{Nodes: map[string]string{}}
	res.Nodes[srv.cfg.Name] = "ok"
	if rt := srv.runtime(); rt == nil {
		res.Nodes[srv.cfg.Name] = "containerd is not connected yet"
	} else if removed, err := rt.RemoveImage(r.Context(), name); err != nil {
		res.Nodes[srv.cfg.Name] = err.Error()
	} else {
		res.Images = []string{removed}
	}
	if r.URL.Query().Get("node") == "" {
		for _, m := range srv.members() {
			if m.Name == srv.cfg.Name || !m.Alive {
				continue
			}
			res.Nodes[m.Name] = srv.removeImageOn(r.Context(), m.API, m.Name, name)
		}
	}
	writeJSON(w, http.StatusOK, res)
}

func (srv *Server) removeImageOn(ctx context.Context, addr, node, name string) string {
	u := "http://" + addr + "/shoal/v1/images?" + url.Values{"node": {node}, "name": {name}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set(forwardedHeader, strconv.Itoa(maxHops))
	resp, err := srv.internalClient(time.Minute).Do(req)
	if err != nil {
		return fmt.Sprintf("send to %s: %v", node, err)
	}
	defer resp.Body.Close()
	var res importResult
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("%s answered HTTP %d", node, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return fmt.Sprintf("%s: %v", node, err)
	}
	return res.Nodes[node]
}

// forwardToNode passes a request whose ?node names another agent to that
// agent, and reports whether it did.
func (srv *Server) forwardToNode(w http.ResponseWriter, r *http.Request) bool {
	target := r.URL.Query().Get("node")
	if target == "" || target == srv.cfg.Name {
		return false
	}
	addr := srv.memberAPI(target)
	if addr == "" {
		writeError(w, srv.log, notFound("Node", "", target))
		return true
	}
	srv.forwardTo(w, r, addr)
	return true
}
