#!/usr/bin/env bash
# Builds Nomad from source for the reference benchmarks (bench/run.sh ref):
# the machine has no internet but the Go module proxy, so no release
# binary can be downloaded; the source comes from a git directory that
# holds hashicorp/nomad (a bare clone or mirror), the modules from the
# proxy.
#
#   bench/nomad-build.sh [NOMAD_GIT_DIR]
#
# NOMAD_GIT_DIR (or $NOMAD_SRC): the git directory (bare or .git).
# $NOMAD_TAG:       the tag to build (default v2.0.5).
# $NOMAD_BUILD_DIR: where the source is checked out and bin/nomad built
#                   (default /var/tmp/shoal-peers/nomad-$NOMAD_TAG, outside
#                   the repository: Nomad's source and binary are never
#                   committed here).
#
# The stored copy of the repository lacks a few blobs; each is left out of
# the checkout, and the script stops if any other is missing. None is part
# of this build:
#   command/agent/bindata_assetfs.go   the web UI's bindata (build tag ui)
#   nomad/structs/structs.generated.go codecgen's msgpack encoders (build
#                                      tag codegen_generated; without it the
#                                      codec encodes by reflection, as in
#                                      Nomad's own `make dev` builds)
#   drivers/docker/test-resources/docker/busybox_glibc.tar        test images
#   drivers/docker/test-resources/docker/busybox_linux_arm64.tar
#   drivers/qemu/test-resources/linux-0.2.img
#
# It prints every step it takes. The build takes about 16 minutes with a
# cold module cache on a 2-core machine; it runs under nice -n 19.
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH

src=${1:-${NOMAD_SRC:-}}
tag=${NOMAD_TAG:-v2.0.5}
dir=${NOMAD_BUILD_DIR:-/var/tmp/shoal-peers/nomad-$tag}
if [[ -z $src ]]; then
	echo "usage: $0 NOMAD_GIT_DIR (or NOMAD_SRC=...): a git directory holding hashicorp/nomad" >&2
	exit 2
fi

step() {
	echo "+ $*" >&2
	"$@"
}

allowed_missing=(
	command/agent/bindata_assetfs.go
	nomad/structs/structs.generated.go
	drivers/docker/test-resources/docker/busybox_glibc.tar
	drivers/docker/test-resources/docker/busybox_linux_arm64.tar
	drivers/qemu/test-resources/linux-0.2.img
)

commit=$(git --git-dir="$src" rev-parse --verify "$tag^{commit}") || {
	echo "$src has no tag $tag" >&2
	exit 1
}
echo "== Nomad $tag (commit $commit) from $src into $dir" >&2

# Which blobs of the tag's tree the store lacks (cat-file answers
# "<object> missing" for each).
tree=$(git --git-dir="$src" ls-tree -r --full-tree "$commit")
missing=()
while IFS= read -r blob; do
	missing+=("$(awk -v b="$blob" '$3 == b { sub(/^[^\t]*\t/, ""); print; exit }' <<<"$tree")")
done < <(awk '{print $3}' <<<"$tree" | git --git-dir="$src" cat-file --batch-check | awk '$2 == "missing" {print $1}')
for path in "${missing[@]}"; do
	ok=0
	for a in "${allowed_missing[@]}"; do [[ $path == "$a" ]] && ok=1; done
	if ((!ok)); then
		echo "the stored copy lacks $path, which the build may need; stopping" >&2
		exit 1
	fi
	echo "leaving out $path (not in the stored copy, not part of this build)" >&2
done

# Check the tree out through a private index, without the missing blobs.
step rm -rf "$dir"
step mkdir -p "$dir"
index=$(mktemp)
trap 'rm -f "$index"' EXIT
step env GIT_INDEX_FILE="$index" git --git-dir="$src" read-tree "$commit"
if ((${#missing[@]})); then
	step env GIT_INDEX_FILE="$index" git --git-dir="$src" update-index --force-remove -- "${missing[@]}"
fi
step env GIT_INDEX_FILE="$index" git --git-dir="$src" checkout-index -a --prefix="$dir/"
echo "$commit" >"$dir/.shoal-commit"

cd "$dir"
step go version
step nice -n 19 go build -trimpath -tags hashicorpmetrics \
	-ldflags "-X github.com/hashicorp/nomad/version.GitCommit=${commit:0:10}" -o bin/nomad .
step ./bin/nomad version
echo "built $dir/bin/nomad" >&2
