// Command dist packages cross-compiled binaries into release archives: one
// archive per binary and platform with LICENSE beside the binary, a
// checksums.txt in sha256sum's format, and the krew plugin manifest
// placement.yaml whose sha256 values are the kubectl plugin archives'.
// `make dist` compiles the binaries and runs it.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	var o Options
	flag.StringVar(&o.Version, "version", "", "release version, e.g. v0.1.0")
	flag.StringVar(&o.BinDir, "bin", "", "directory of NAME_OS_ARCH/ directories, each holding one binary")
	flag.StringVar(&o.OutDir, "out", "", "directory to write the archives, checksums.txt and placement.yaml to")
	flag.StringVar(&o.License, "license", "LICENSE", "license file to put in every archive")
	flag.StringVar(&o.DownloadURL, "download-url", DefaultDownloadURL, "where the release's archives are published; VERSION is replaced by the version")
	flag.Parse()
	archives, err := Package(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
	for _, a := range archives {
		fmt.Printf("%s  %s\n", a.SHA256, a.Name)
	}
}
