package localcluster

import (
	"fmt"
	"os"
	"sync"

	"k8s.io/klog/v2"
)

// processTB lets the apiserver test server, which expects a test's TB, run in an
// ordinary process: log lines go to klog, cleanups run on Stop, and a fatal
// error panics with a fatalError, which Start turns back into an error
// (recoverFatal). A fatal error in one of the server's own goroutines after
// start-up has no caller to recover it and ends the process, as it would end
// a test.
type processTB struct {
	logger  klog.Logger
	tempDir string

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	dirs     int
}

func newProcessTB(logger klog.Logger, tempDir string) *processTB {
	return &processTB{logger: logger.WithName("apiserver"), tempDir: tempDir}
}

// fatalError is the panic value of Fatal; it carries the message up the stack.
type fatalError struct{ msg string }

func (e fatalError) Error() string { return e.msg }

// recoverFatal, deferred, turns a fatalError panic into *err; any other
// panic goes on.
func recoverFatal(err *error) {
	r := recover()
	if r == nil {
		return
	}
	fatal, ok := r.(fatalError)
	if !ok {
		panic(r)
	}
	*err = fatal
}

func (t *processTB) Attr(key, value string)   {}
func (t *processTB) Chdir(dir string)         { t.Fatalf("Chdir(%q) is not supported outside tests", dir) }
func (t *processTB) Helper()                  {}
func (t *processTB) Name() string             { return "placement-localcluster" }
func (t *processTB) Setenv(key, value string) { os.Setenv(key, value) }
func (t *processTB) Log(args ...any)          { t.logger.V(4).Info(fmt.Sprint(args...)) }
func (t *processTB) Logf(format string, args ...any) {
	t.logger.V(4).Info(fmt.Sprintf(format, args...))
}
func (t *processTB) Error(args ...any)                 { t.fail(fmt.Sprint(args...)) }
func (t *processTB) Errorf(format string, args ...any) { t.fail(fmt.Sprintf(format, args...)) }
func (t *processTB) Fail()                             { t.fail("failed") }
func (t *processTB) FailNow()                          { t.Fatal("failed") }
func (t *processTB) Fatal(args ...any) {
	t.fail(fmt.Sprint(args...))
	panic(fatalError{fmt.Sprint(args...)})
}
func (t *processTB) Fatalf(format string, args ...any) {
	t.Fatal(fmt.Sprintf(format, args...))
}
func (t *processTB) Skip(args ...any)                 { t.Fatal(args...) }
func (t *processTB) Skipf(format string, args ...any) { t.Fatalf(format, args...) }
func (t *processTB) SkipNow()                         { t.Fatal("skipped") }
func (t *processTB) Skipped() bool                    { return false }

func (t *processTB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *processTB) fail(msg string) {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	t.logger.Error(nil, msg)
}

func (t *processTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *processTB) TempDir() string {
	t.mu.Lock()
	t.dirs++
	dir := fmt.Sprintf("%s-%d", t.tempDir, t.dirs)
	t.mu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("creating temporary directory: %v", err)
	}
	return dir
}

// runCleanups runs registered cleanups last-in first-out, like testing.T.
func (t *processTB) runCleanups() {
	t.mu.Lock()
	fns := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}
