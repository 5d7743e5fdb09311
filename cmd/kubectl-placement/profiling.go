package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/pflag"
)

// profiling is kubectl's --profile and --profile-output: a CPU profile of
// the command's run, or the heap as it ends.
type profiling struct {
	name, output string
	file         *os.File
}

func (p *profiling) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&p.name, "profile", "none", "name of the profile to capture: none, cpu, heap")
	fl.StringVar(&p.output, "profile-output", "profile.pprof", "name of the file to write the profile to")
}

func (p *profiling) start() error {
	switch p.name {
	case "none", "heap":
		return nil
	case "cpu":
		f, err := os.Create(p.output)
		if err != nil {
			return fmt.Errorf("--profile-output: %w", err)
		}
		p.file = f
		return pprof.StartCPUProfile(f)
	default:
		return fmt.Errorf("--profile %q: want none, cpu or heap", p.name)
	}
}

func (p *profiling) stop() error {
	switch p.name {
	case "cpu":
		pprof.StopCPUProfile()
		return p.file.Close()
	case "heap":
		f, err := os.Create(p.output)
		if err != nil {
			return fmt.Errorf("--profile-output: %w", err)
		}
		defer f.Close()
		runtime.GC()
		return pprof.Lookup("heap").WriteTo(f, 0)
	}
	return nil
}
