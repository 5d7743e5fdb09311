package localcluster

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/klog/v2/ktesting"
)

// TestFatalBecomesError: what the apiserver test server reports with Fatalf
// reaches Start's caller as an error, and the TB remembers the failure.
func TestFatalBecomesError(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	tb := newProcessTB(logger, t.TempDir())
	run := func() (err error) {
		defer recoverFatal(&err)
		tb.Fatalf("etcd %s refused", "127.0.0.1:1")
		return nil
	}
	err := run()
	if err == nil || !strings.Contains(err.Error(), "etcd 127.0.0.1:1 refused") {
		t.Fatalf("err = %v, want the Fatalf message", err)
	}
	if !tb.Failed() {
		t.Error("the TB does not report the failure")
	}
}

// TestOtherPanicsGoOn: recoverFatal is not a catch-all.
func TestOtherPanicsGoOn(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !errors.Is(r.(error), errBoom) {
			t.Errorf("recovered %v, want errBoom to pass through", r)
		}
	}()
	func() (err error) {
		defer recoverFatal(&err)
		panic(errBoom)
	}()
}

var errBoom = errors.New("boom")
