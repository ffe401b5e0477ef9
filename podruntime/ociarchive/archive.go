package ociarchive

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// imageSpec is the little an archive needs to know about a one-layer image.
type imageSpec struct {
	arch        string
	cmd         []string
	env         []string
	layerGzip   []byte
	layerDiffID digest.Digest
}

func digestOf(b []byte) digest.Digest {
	return digest.FromBytes(b)
}

// writeArchive writes an OCI image layout as a tar stream: oci-layout,
// index.json naming ref, and the manifest, config and layer blobs.
func writeArchive(w io.Writer, ref string, s imageSpec) error {
	cfg := ocispec.Image{
		Platform: ocispec.Platform{Architecture: s.arch, OS: "linux"},
		Config:   ocispec.ImageConfig{Cmd: s.cmd, Env: s.env},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{s.layerDiffID}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode image config: %w", err)
	}
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    descriptor(ocispec.MediaTypeImageConfig, cfgJSON),
		Layers:    []ocispec.Descriptor{descriptor(ocispec.MediaTypeImageLayerGzip, s.layerGzip)},
	}
	manifestJSON, err := json.Marshal(manifest)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	mdesc := descriptor(ocispec.MediaTypeImageManifest, manifestJSON)
	mdesc.Annotations = map[string]string{
		"io.containerd.image.name": ref,
		ocispec.AnnotationRefName:  ociRefName(ref),
	}
	index := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{mdesc},
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return fmt.Errorf("encode index: %w", err)
	}
	layoutJSON, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return fmt.Errorf("encode oci-layout: %w", err)
	}

	tw := tar.NewWriter(w)
	entries := []struct {
		name string
		data []byte
	}{
		{ocispec.ImageLayoutFile, layoutJSON},
		{"index.json", indexJSON},
		{blobPath(manifestJSON), manifestJSON},
		{blobPath(cfgJSON), cfgJSON},
		{blobPath(s.layerGzip), s.layerGzip},
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch}); err != nil {
			return fmt.Errorf("write %s: %w", d, err)
		}
	}
	for _, e := range entries {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("write %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finish archive: %w", err)
	}
	return nil
}

func descriptor(mediaType string, blob []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digestOf(blob), Size: int64(len(blob))}
}

func blobPath(blob []byte) string {
	return "blobs/sha256/" + digestOf(blob).Encoded()
}

// ociRefName is what the OCI layout spec expects in ref.name: the tag (or
// digest) of ref, as containerd's own exporter writes it; the full name
// travels in io.containerd.image.name.
func ociRefName(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	if t, ok := named.(reference.Tagged); ok {
		return t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		return d.Digest().String()
	}
	return "latest"
}
