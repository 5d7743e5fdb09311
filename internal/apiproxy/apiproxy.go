// Package apiproxy stands between one client and the in-process apiserver so
// that tests can give that client the faults of a real network and a slow
// control plane: a cut connection, delayed requests or responses, and an
// apiserver that restarts on another address. The client speaks plain HTTP
// to the proxy; the proxy speaks to the apiserver with the administrator's
// credentials. Every request is recorded with the apiserver's answer.
package apiproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Delay holds a request back before it is forwarded (Before) and holds its
// answer back after the apiserver acted on it (After): the second is the
// slow control plane a client cannot tell from a lost response.
type Delay struct {
	Before, After time.Duration
}

// Request is one request the proxy took, with the apiserver's status (0
// while no answer came, and for good when the proxy was cut or the
// apiserver was down).
type Request struct {
	Method, Path, RawQuery string
	Status                 int
	// UID is the pod a binding request binds, from its body: names repeat
	// (a StatefulSet's pods), uids do not.
	UID string
	// At is when the request came, Took how long until its answer ended (0
	// while it is in flight: a watch, say).
	At   time.Time
	Took time.Duration
}

// Proxy is a running proxy. Its methods are safe for concurrent use.
type Proxy struct {
	// URL is where clients reach the proxy.
	URL string

	srv      *http.Server
	listener net.Listener

	mu        sync.Mutex
	upstream  *url.URL
	transport http.RoundTripper
	cut       bool
	inflight  map[*inflight]struct{}
	delay     func(*http.Request) Delay
	keep      func(Request) bool
	log       []Request
}

type inflight struct {
	cancel context.CancelFunc
	req    Request
	// entry is the request's place in the log, -1 if it is not kept.
	entry int
}

// Start listens on a free loopback port and forwards to the apiserver cfg
// reaches.
func Start(cfg *rest.Config) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	p := &Proxy{URL: "http://" + l.Addr().String(), listener: l, inflight: map[*inflight]struct{}{}}
	if err := p.SetUpstream(cfg); err != nil {
		l.Close()
		return nil, err
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// SetUpstream points the proxy at the apiserver cfg reaches, as after a
// restart on a new address; requests in flight to the old one go on.
func (p *Proxy) SetUpstream(cfg *rest.Config) error {
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return fmt.Errorf("apiserver address %q: %w", cfg.Host, err)
	}
	t, err := rest.TransportFor(cfg)
	if err != nil {
		return fmt.Errorf("apiserver transport: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.upstream, p.transport = u, t
	return nil
}

// Cut drops every request in flight (watches end mid-stream, answers never
// arrive) and closes every new connection until Heal, as a partition would.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for f := range p.inflight {
		f.cancel()
	}
}

// Heal ends a Cut.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// SetDelay makes every later request wait as delay says (nil: no delay).
func (p *Proxy) SetDelay(delay func(*http.Request) Delay) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = delay
}

// Keep records only the requests keep accepts (nil: every request), so that
// a proxy that runs for hours holds only what will be asked for.
func (p *Proxy) Keep(keep func(Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep = keep
}

// Requests returns the requests taken so far, those in flight included.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.log...)
}

// WriteKubeconfig writes a kubeconfig that reaches the apiserver through the
// proxy; it carries no credentials, the proxy adds them.
func (p *Proxy) WriteKubeconfig(path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["proxy"] = &clientcmdapi.Cluster{Server: p.URL}
	kc.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	kc.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	kc.CurrentContext = "proxy"
	return clientcmd.WriteToFile(*kc, path)
}

// Config is a client configuration that reaches the apiserver through the proxy.
func (p *Proxy) Config() *rest.Config {
	return &rest.Config{Host: p.URL, QPS: 5000, Burst: 10000}
}

// Close stops the proxy and drops what is in flight.
func (p *Proxy) Close() {
	p.Cut()
	_ = p.srv.Close()
}

// IsBinding tells a request that binds a pod to a node.
func IsBinding(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/binding")
}

// BoundPod returns namespace/name of the pod a binding request binds, and
// false for any other request.
func BoundPod(r Request) (string, bool) {
	// /api/v1/namespaces/NS/pods/NAME/binding
	parts := strings.Split(strings.Trim(r.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 7 || parts[2] != "namespaces" || parts[4] != "pods" || parts[6] != "binding" {
		return "", false
	}
	return parts[3] + "/" + parts[5], true
}

// InFlight counts the requests in flight that match.
func (p *Proxy) InFlight(match func(Request) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for f := range p.inflight {
		if match(f.req) {
			n++
		}
	}
	return n
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entry := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, At: time.Now()}
	if IsBinding(r) {
		entry.UID = bindingUID(r)
	}
	ctx, f := p.begin(r.Context(), entry)
	if f == nil {
		dropConnection(w)
		return
	}
	defer func() {
		entry.Took = time.Since(entry.At)
		p.end(f, entry)
	}()
	p.mu.Lock()
	upstream, transport, delayOf := p.upstream, p.transport, p.delay
	p.mu.Unlock()
	var d Delay
	if delayOf != nil {
		d = delayOf(r)
	}
	if !sleep(ctx, d.Before) {
		dropConnection(w)
		return
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Header.Del("Authorization")
		},
		Transport: transport,
		// Watches stream: every event goes out as it comes.
		FlushInterval: -1,
		ModifyResponse: func(resp *http.Response) error {
			entry.Status = resp.StatusCode
			if !sleep(ctx, d.After) {
				return errCut
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if errors.Is(err, errCut) || ctx.Err() != nil {
				dropConnection(w)
				return
			}
			// The apiserver is down or restarting: the client sees what it
			// would see from a load balancer in front of it.
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r.WithContext(ctx))
}

var errCut = errors.New("proxy cut")

// begin registers a request, or returns nil while the proxy is cut.
func (p *Proxy) begin(parent context.Context, r Request) (context.Context, *inflight) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(parent)
	f := &inflight{cancel: cancel, req: r, entry: -1}
	if p.keep == nil || p.keep(r) {
		f.entry = len(p.log)
		p.log = append(p.log, r)
	}
	p.inflight[f] = struct{}{}
	return ctx, f
}

// end forgets a request in flight and records how it ended.
func (p *Proxy) end(f *inflight, r Request) {
	f.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inflight, f)
	if f.entry >= 0 {
		p.log[f.entry] = r
	}
}

// bindingUID reads the pod uid from a binding's body (JSON or protobuf, as
// the client chose) and puts the body back for the apiserver; "" if the body
// cannot be read.
func bindingUID(r *http.Request) string {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
	if err != nil {
		return ""
	}
	if b, ok := obj.(*v1.Binding); ok {
		return string(b.UID)
	}
	return ""
}

// sleep waits d unless ctx ends first, and says whether it waited it all.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the client's connection without an answer, as a
// partition or a crashed peer does; a response already under way is cut off.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
