// Package localcluster runs a throw-away Kubernetes control plane inside the
// current process: an embedded etcd and a kube-apiserver. There is no kubelet and
// no controller manager, so nodes are plain API objects and pods only move when a
// scheduler binds them. Integration tests and the sandbox behind `make run` share it.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	etcdserverpb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"
	apiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
)

// DefaultAPIServerFlags make the in-process apiserver usable for scheduling
// without the rest of a control plane.
var DefaultAPIServerFlags = []string{
	// No Endpoints controller runs the reconciler's lease bookkeeping here.
	"--endpoint-reconciler-type=none",
	// ServiceAccount admission wants token controllers we do not run;
	// TaintNodesByCondition would mark every node not-ready (no kubelet reports
	// readiness) and nothing would ever schedule; Priority needs the
	// system priority classes a controller manager creates.
	"--disable-admission-plugins=ServiceAccount,TaintNodesByCondition,Priority",
}

// Options tune the control plane. The zero value is a working default.
type Options struct {
	// APIServerFlags are appended to DefaultAPIServerFlags; a later flag wins.
	APIServerFlags []string
	// Dir holds etcd's data and the apiserver's certificates. Empty means a new
	// temporary directory that Stop removes.
	Dir string
}

// Cluster is a running control plane.
type Cluster struct {
	// Config reaches the apiserver as a cluster administrator.
	Config *rest.Config

	etcd      *embed.Etcd
	apiserver apiservertesting.TestServer
	tb        *processTB
	dir       string
	ownDir    bool
	// flags and storage start the apiserver again on Restart.
	flags   []string
	storage *storagebackend.Config
	starts  int
}

// Start brings up etcd and the apiserver and returns once the apiserver is
// healthy. On error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	logger := klog.FromContext(ctx)
	c := &Cluster{dir: opts.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "placement-localcluster-"); err != nil {
			return nil, fmt.Errorf("creating working directory: %w", err)
		}
		c.ownDir = true
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	clientURL, err := c.startEtcd()
	if err != nil {
		return nil, err
	}

	storage := storagebackend.NewDefaultConfig("/registry", nil)
	storage.Transport.ServerList = []string{clientURL}

	c.flags = append(append([]string{}, DefaultAPIServerFlags...), opts.APIServerFlags...)
	c.storage = storage
	if err := c.startAPIServer(logger); err != nil {
		return nil, err
	}
	if err := c.installCRDs(ctx); err != nil {
		return nil, err
	}
	logger.V(2).Info("Local control plane is up", "host", c.Config.Host, "etcd", clientURL)
	return c, nil
}

// startAPIServer starts the test server, whose failures call Fatal, and
// points Config at it.
func (c *Cluster) startAPIServer(logger klog.Logger) (err error) {
	defer recoverFatal(&err)
	c.starts++
	c.tb = newProcessTB(logger, filepath.Join(c.dir, fmt.Sprintf("apiserver-%d", c.starts)))
	if c.apiserver, err = apiservertesting.StartTestServer(c.tb, nil, c.flags, c.storage); err != nil {
		return fmt.Errorf("starting kube-apiserver: %w", err)
	}
	c.Config = rest.CopyConfig(c.apiserver.ClientConfig)
	// The test server's default rate limits throttle tests that create
	// thousands of objects; nothing else shares this apiserver.
	c.Config.QPS, c.Config.Burst = 5000, 10000
	return nil
}

// stopAPIServer stops the apiserver and runs what it left to clean up.
func (c *Cluster) stopAPIServer() {
	if c.apiserver.TearDownFn != nil {
		c.apiserver.TearDownFn()
		c.apiserver.TearDownFn = nil
	}
	if c.tb != nil {
		c.tb.runCleanups()
	}
}

// RestartAPIServer stops the apiserver, waits down, and starts a new one on
// the same etcd, as an upgrade does. The new one listens on another port and
// has new certificates: Config changes, and clients made from the old Config
// must be made again (or reach it through a proxy that follows it).
func (c *Cluster) RestartAPIServer(ctx context.Context, down time.Duration) error {
	start := time.Now()
	c.stopAPIServer()
	klog.FromContext(ctx).Info("Stopped the apiserver", "took", time.Since(start))
	select {
	case <-time.After(down):
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.startAPIServer(klog.FromContext(ctx))
}

// Compact compacts etcd's history up to its current revision, so that a
// watch that resumes from an older resource version is told it is too old
// and its client must list again. It returns the revision compacted to.
func (c *Cluster) Compact(ctx context.Context) (int64, error) {
	rev := c.etcd.Server.KV().Rev()
	if _, err := c.etcd.Server.Compact(ctx, &etcdserverpb.CompactionRequest{Revision: rev, Physical: true}); err != nil {
		return 0, fmt.Errorf("compacting etcd to revision %d: %w", rev, err)
	}
	return rev, nil
}

func (c *Cluster) startEtcd() (string, error) {
	ports, err := FreePorts(2)
	if err != nil {
		return "", err
	}
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(c.dir, "etcd")
	// Nothing here outlives the process, so durability buys nothing.
	cfg.UnsafeNoFsync = true
	clientURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))}
	peerURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", fmt.Errorf("starting embedded etcd: %w", err)
	}
	c.etcd = e
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		return "", errors.New("embedded etcd did not become ready within 60s")
	}
	return clientURL.String(), nil
}

// WriteKubeconfig writes an administrator kubeconfig for kubectl and clients.
func (c *Cluster) WriteKubeconfig(path string) error {
	return c.WriteKubeconfigAs(path, "", nil)
}

// ServiceAccountUser returns the user name and groups the apiserver gives
// ServiceAccount namespace/name.
func ServiceAccountUser(namespace, name string) (string, []string) {
	return "system:serviceaccount:" + namespace + ":" + name,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
}

// WriteKubeconfigAs writes a kubeconfig whose requests impersonate user and
// groups, so that a component can be run with exactly a given identity's
// permissions (user "" means the administrator itself).
func (c *Cluster) WriteKubeconfigAs(path, user string, groups []string) error {
	cfg := c.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.TLSClientConfig.CAData,
		CertificateAuthority:     cfg.TLSClientConfig.CAFile,
		InsecureSkipTLSVerify:    cfg.TLSClientConfig.Insecure,
		// The serving certificate is issued for a fixed loopback name.
		TLSServerName: cfg.TLSClientConfig.ServerName,
	}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{
		Token:                 cfg.BearerToken,
		ClientCertificateData: cfg.TLSClientConfig.CertData,
		ClientKeyData:         cfg.TLSClientConfig.KeyData,
		ClientCertificate:     cfg.TLSClientConfig.CertFile,
		ClientKey:             cfg.TLSClientConfig.KeyFile,
		Impersonate:           user,
		ImpersonateGroups:     groups,
	}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin"}
	kc.CurrentContext = "local"
	return clientcmd.WriteToFile(*kc, path)
}

// Dir is the working directory of this control plane.
func (c *Cluster) Dir() string { return c.dir }

// Stop shuts the apiserver down before etcd, so the apiserver does not spin on
// a vanished backend, then removes what Start created. It is safe to call twice.
func (c *Cluster) Stop() {
	c.stopAPIServer()
	if c.etcd != nil {
		c.etcd.Close()
		c.etcd = nil
	}
	if c.ownDir && c.dir != "" {
		os.RemoveAll(c.dir)
		c.dir = ""
	}
}

// FreePorts returns n ports on 127.0.0.1 that were free a moment ago (held
// together, so they differ).
func FreePorts(n int) ([]int, error) {
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
