package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
)

func main() {
	binary := flag.String("binary", "", "the static placement-scheduler binary to put in the image")
	ref := flag.String("image", "", "the image's reference, REPOSITORY:TAG (the Makefile's IMAGE:VERSION)")
	version := flag.String("version", "", "the release, for the org.opencontainers.image.version label")
	commit := flag.String("commit", "", "the commit, for the org.opencontainers.image.revision label")
	arch := flag.String("arch", runtime.GOARCH, "the binary's GOARCH")
	oci := flag.String("oci", "", "directory to write the OCI image layout to (replaced)")
	tarPath := flag.String("tarball", "", "file to write the docker-loadable tarball to")
	flag.Parse()
	if err := run(*binary, *ref, *version, *commit, *arch, *oci, *tarPath); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(binary, ref, version, commit, arch, oci, tarPath string) error {
	for flagName, v := range map[string]string{"-binary": binary, "-image": ref, "-version": version, "-oci": oci, "-tarball": tarPath} {
		if v == "" {
			return fmt.Errorf("%s is required", flagName)
		}
	}
	tag, err := name.NewTag(ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("-image %q: %w", ref, err)
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	img, err := build(spec{binary: data, version: version, commit: commit, arch: arch})
	if err != nil {
		return err
	}
	if err := write(img, tag, oci, tarPath); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s\n  OCI layout: %s\n  tarball:    %s (docker load -i)\n", tag, digest, oci, tarPath)
	return nil
}
