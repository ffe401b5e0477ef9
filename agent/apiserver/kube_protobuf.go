package apiserver

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// protobufWire lets a resource route speak Kubernetes protobuf, client-go's
// default for typed clients: a protobuf body is decoded through the
// scheme's protobuf serializer and handed on as JSON, so the same strict
// path (supported fields, defaults, validation) judges it; an answer is
// re-encoded as protobuf when the client prefers it and the answer is an
// object of a kind with protobuf (a Table or a stream stays as it is).
func (srv *Server) protobufWire(rt kubeRoute, h func(http.ResponseWriter, *http.Request)) func(http.ResponseWriter, *http.Request) {
	if rt.sub != "" && rt.sub != "status" && rt.sub != "scale" && rt.sub != "token" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if isProtobuf(r.Header.Get("Content-Type")) {
			body, err := readBody(r) // api_rc.go
			if err != nil {
				writeError(w, srv.log, err)
				return
			}
			js, err := api.ProtobufToJSON(body)
			if err != nil {
				writeError(w, srv.log, invalid(err))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(js))
			r.ContentLength = int64(len(js))
			r.Header.Set("Content-Length", strconv.Itoa(len(js)))
			r.Header.Set("Content-Type", "application/json")
		}
		if !prefersProtobuf(r.Header.Get("Accept")) || isWatch(r) {
			h(w, r)
			return
		}
		rec := newRecorder()
		h(rec, r)
		if ct, _, _ := mime.ParseMediaType(rec.header.Get("Content-Type")); ct == "application/json" {
			if pb, ok := api.JSONToProtobuf(rec.body.Bytes()); ok {
				rec.header.Set("Content-Type", api.ContentTypeProtobuf)
				rec.header.Del("Content-Length")
				rec.body.Reset()
				rec.body.Write(pb)
			}
		}
		rec.copyTo(w)
	}
}

func isProtobuf(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == api.ContentTypeProtobuf
}

// prefersProtobuf is true when protobuf is the first media type the client
// accepts (client-go sends "application/vnd.kubernetes.protobuf,
// application/json"); a Table request never is.
func prefersProtobuf(accept string) bool {
	first, _, _ := strings.Cut(accept, ",")
	mt, params, err := mime.ParseMediaType(strings.TrimSpace(first))
	return err == nil && mt == api.ContentTypeProtobuf && params["as"] == ""
}
