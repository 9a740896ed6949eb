//go:build cluster

/*
Copyright 2026 The authstack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package cluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/authstack/authstack/internal/testing/testenv"
)

// The node's fixed addresses. They live in the node's own network
// namespace, so they cannot collide with the host's.
const (
	bridgeIP    = "10.244.0.1"
	podCIDR     = "10.244.0.0/24"
	serviceCIDR = "10.96.0.0/24"
	kubeSvcIP   = "10.96.0.1"
	nodeName    = "authstack-node"
	adminToken  = "authstack-test-admin-token"
	pauseImage  = "registry.k8s.io/pause:3.10"
	// authstackImage is make image-archives' AUTHSTACK_IMAGE.
	authstackImage = "docker.io/local/authstack:dev"
	// webhookIP is the ClusterIP kube-apiserver's TokenReview webhook
	// configuration names: a Service the test creates for the
	// in-cluster token servers once they run.
	webhookIP = "10.96.0.100"
)

// Node is a real single-node cluster: etcd, the control plane, containerd,
// kubelet, kube-proxy and CoreDNS, every process in the network namespace
// NetNS.
type Node struct {
	t          *testing.T
	Dir        string // everything the node writes, mounts included
	NetNS      string
	Kubeconfig string
	Client     kubernetes.Interface
	Config     *rest.Config // the admin's, dialing from the namespace
	bins       string
	root       string
	sock       string // containerd's socket
	procs      []*proc
	created    []string          // host paths that did not exist before the node
	tunables   map[string]string // kernelTunables before the kubelet
	httpOnce   sync.Once
	http       *http.Client // HTTP's
}

// proc is one process the node started, with its log.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// StartNode brings the node up in the verified order and returns once the
// pause and authstack images are imported, the node is Ready and the
// default ServiceAccount exists. Every
// trace of it is removed when the test ends, also when it fails, and a
// failure carries the tail of each component's log.
func StartNode(t *testing.T) *Node {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the cluster test runs a real node and must run as root")
	}
	root := testenv.Root()
	n := &Node{
		t:     t,
		Dir:   t.TempDir(),
		NetNS: fmt.Sprintf("authstack-test-%d", os.Getpid()),
		root:  root,
		bins:  filepath.Join(root, "bin", "k8s", testenv.KubernetesVersion()+"-"+runtime.GOOS+"-"+runtime.GOARCH),
	}
	for _, p := range []string{"/run/netns", "/run/containerd", "/var/log/pods", "/var/log/containers", "/var/lib/cni", "/var/lib/kubelet"} {
		if _, err := os.Stat(p); os.IsNotExist(err) {
			n.created = append(n.created, p)
		}
	}
	n.removeStaleRuns()
	n.saveKernelTunables()
	t.Cleanup(n.cleanup)
	start := time.Now()
	n.network()
	p := writePKI(t, n.mkdir(n.t, "pki"), net.ParseIP(bridgeIP), net.ParseIP(kubeSvcIP), net.ParseIP("127.0.0.1"))
	n.controlPlane(p)
	n.coreDNS()
	n.containerd()
	n.importImages()
	n.kubelet()
	n.kubeProxy()
	n.waitNodeReady()
	// Pods are refused until the controller-manager has made the
	// namespace's default ServiceAccount.
	n.waitFor(n.t, "default ServiceAccount", 60, func() error {
		_, err := n.Client.CoreV1().ServiceAccounts("default").Get(context.Background(), "default", metav1.GetOptions{})
		return err
	})
	t.Logf("node Ready %.1fs after the start", time.Since(start).Seconds())
	return n
}

func (n *Node) mkdir(t testing.TB, elem ...string) string {
	t.Helper()
	d := filepath.Join(append([]string{n.Dir}, elem...)...)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func (n *Node) file(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(n.Dir, name)
	writeFile(t, path, []byte(content))
	return path
}

// run runs a short command on the host and fails the test on an error.
func (n *Node) run(name string, args ...string) string {
	n.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// nsCommand is name with args in the node's network namespace. It enters
// the network namespace only (nsenter --net), not a mount namespace of its
// own as `ip netns exec` would: kubelet's volume mounts must be visible to
// containerd and runc.
func (n *Node) nsCommand(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=/var/run/netns/" + n.NetNS, "--", name}, args...)...)
}

// inNS runs a short command in the node's network namespace.
func (n *Node) inNS(name string, args ...string) string {
	n.t.Helper()
	cmd := n.nsCommand(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		n.t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// network creates the namespace and, inside it, loopback, the bridge whose
// gateway address kube-apiserver binds and advertises (it refuses a
// loopback address), and a route to the Services.
func (n *Node) network() {
	n.run("ip", "netns", "add", n.NetNS)
	n.inNS("ip", "link", "set", "lo", "up")
	n.inNS("ip", "link", "add", "cni0", "type", "bridge")
	n.inNS("ip", "addr", "add", bridgeIP+"/24", "dev", "cni0")
	n.inNS("ip", "link", "set", "cni0", "up")
	// The namespace has no default route: without this one a connection
	// from the node to a ClusterIP fails before kube-proxy's DNAT.
	n.inNS("ip", "route", "add", serviceCIDR, "dev", "cni0", "src", bridgeIP)
}

// daemon starts a long-running process in the node's network namespace;
// cleanup stops it.
func (n *Node) daemon(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(n.mkdir(t, "logs"), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := n.nsCommand(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("%s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	n.procs = append(n.procs, p)
	return p
}

func (n *Node) bin(name string) string { return filepath.Join(n.bins, name) }

// waitFor polls cond once a second, at most tries times, and fails with
// the components' logs when it never holds or a component exits.
func (n *Node) waitFor(t testing.TB, what string, tries int, cond func() error) {
	t.Helper()
	var err error
	for i := 0; i < tries; i++ {
		if err = cond(); err == nil {
			return
		}
		for _, p := range n.procs {
			select {
			case <-p.done:
				t.Fatalf("waiting for %s: %s exited (%v)%s", what, p.name, p.cmd.ProcessState, n.logs())
			default:
			}
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: not after %d tries: %v%s", what, tries, err, n.logs())
}

func (n *Node) controlPlane(p pki) {
	etcdDir := n.mkdir(n.t, "etcd")
	n.daemon(n.t, "etcd", n.bin("etcd"), "--data-dir", etcdDir,
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "default=http://127.0.0.1:2380")
	tokens := n.file(n.t, "tokens.csv", adminToken+",admin,admin,system:masters\n")
	// authstack's TokenReview webhook, as `authstack kubeconfig` prints it,
	// at a Service that does not exist yet: until it does, the webhook
	// fails and only the other authenticators (the admin's static token,
	// ServiceAccount tokens) log anyone in.
	webhook, err := exec.Command(filepath.Join(n.root, "bin", "images", "authstack"), "kubeconfig", "--webhook-config",
		"--server", "http://"+webhookIP, "--insecure-allow-http").Output()
	if err != nil {
		n.t.Fatalf("authstack kubeconfig --webhook-config (make image-archives builds it): %v", err)
	}
	webhookConfig := n.file(n.t, "webhook.kubeconfig", string(webhook))
	n.daemon(n.t, "kube-apiserver", n.bin("kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:2379",
		"--bind-address", bridgeIP, "--advertise-address", bridgeIP, "--secure-port", "6443",
		"--tls-cert-file", p.CertFile, "--tls-private-key-file", p.KeyFile,
		"--token-auth-file", tokens, "--authorization-mode", "Node,RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", p.SAKeyFile, "--service-account-signing-key-file", p.SAKeyFile,
		"--service-cluster-ip-range", serviceCIDR,
		"--kubelet-preferred-address-types", "InternalIP",
		"--authentication-token-webhook-config-file", webhookConfig, "--authentication-token-webhook-version", "v1",
		"--authentication-token-webhook-cache-ttl", "1s",
		"--cert-dir", n.mkdir(n.t, "apiserver-certs"))
	n.Kubeconfig = n.file(n.t, "admin.kubeconfig", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: node
  cluster:
    server: https://%s:6443
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: node
  context: {cluster: node, user: admin}
current-context: node
`, bridgeIP, p.CAFile, adminToken))
	n.client()
	n.waitFor(n.t, "kube-apiserver /readyz", 60, func() error {
		return n.Client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(context.Background()).Error()
	})
	n.daemon(n.t, "kube-controller-manager", n.bin("kube-controller-manager"),
		"--kubeconfig", n.Kubeconfig, "--leader-elect=false",
		"--service-account-private-key-file", p.SAKeyFile, "--root-ca-file", p.CAFile,
		"--use-service-account-credentials", "--bind-address", "127.0.0.1")
	n.daemon(n.t, "kube-scheduler", n.bin("kube-scheduler"),
		"--kubeconfig", n.Kubeconfig, "--leader-elect=false", "--bind-address", "127.0.0.1")
}

// client builds the admin client. The bridge address is reachable only
// inside the node's network namespace, so the client dials from there.
func (n *Node) client() {
	cfg, err := clientcmd.BuildConfigFromFlags("", n.Kubeconfig)
	if err != nil {
		n.t.Fatal(err)
	}
	cfg.Dial = nsDialer(n.NetNS)
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	n.Config, n.Client = cfg, c
}

// coreDNS serves the cluster's names on the bridge address, the kubelet's
// clusterDNS, from the API server through the admin kubeconfig.
func (n *Node) coreDNS() {
	corefile := n.file(n.t, "Corefile", fmt.Sprintf(`.:53 {
    bind %s
    errors
    cache 30
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s node
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
}
`, bridgeIP, n.Kubeconfig))
	n.daemon(n.t, "coredns", n.bin("coredns"), "-conf", corefile)
	n.waitFor(n.t, "CoreDNS", 60, func() error {
		_, err := n.Resolver().LookupHost(context.Background(), "kubernetes.default.svc.cluster.local")
		return err
	})
}

// Resolver asks the node's CoreDNS, from the node's network namespace.
func (n *Node) Resolver() *net.Resolver {
	dial := nsDialer(n.NetNS)
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dial(ctx, network, net.JoinHostPort(bridgeIP, "53"))
	}}
}

// containerd runs with its own root, state and socket under the node's
// directory, the CNI configuration in a directory of its own, and the two
// settings this machine needs (the pitfalls in real-node-from-source.md).
func (n *Node) containerd() {
	d := n.mkdir(n.t, "containerd")
	cniConf := n.mkdir(n.t, "cni", "net.d")
	n.file(n.t, "cni/net.d/10-bridge.conflist", fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "authstack-test",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": %q, "ranges": [[{"subnet": %q, "gateway": %q}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, n.mkdir(n.t, "cni", "ipam"), podCIDR, bridgeIP))
	n.sock = filepath.Join(d, "containerd.sock")
	cfg := n.file(n.t, "containerd/config.toml", fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      Root = %q
`, filepath.Join(d, "root"), filepath.Join(d, "state"), n.sock, n.sock+".ttrpc", pauseImage, cniConf, filepath.Join(d, "runc")))
	n.daemon(n.t, "containerd", "/usr/bin/containerd", "--config", cfg)
	n.waitFor(n.t, "containerd", 30, func() error {
		_, err := n.ctr("version")
		return err
	})
}

func (n *Node) ctr(args ...string) (string, error) {
	out, err := exec.Command("ctr", append([]string{"--address", n.sock, "-n", "k8s.io"}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (n *Node) importImages() {
	for _, name := range []string{"pause.tar", "authstack.tar", "redis.tar", "loadgen.tar"} {
		path := filepath.Join(n.root, "bin", "images", name)
		if _, err := os.Stat(path); err != nil {
			n.t.Fatalf("%v: run make image-archives", err)
		}
		if _, err := n.ctr("images", "import", path); err != nil {
			n.t.Fatal(err)
		}
	}
}

func (n *Node) kubelet() {
	d := n.mkdir(n.t, "kubelet")
	cfg := n.file(n.t, "kubelet/config.yaml", fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
containerRuntimeEndpoint: unix://%s
podLogsDir: %s
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
readOnlyPort: 0
clusterDomain: cluster.local
clusterDNS: [%s]
evictionHard: {"memory.available": "1Mi", "nodefs.available": "1%%", "imagefs.available": "1%%"}
# Secret volumes are rewritten at each pod sync: every 10 s here rather
# than the default minute, so the kustomize install's token servers see the
# manager's signing keys sooner.
syncFrequency: 10s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`, n.sock, n.mkdir(n.t, "pod-logs"), bridgeIP))
	n.daemon(n.t, "kubelet", n.bin("kubelet"), "--config", cfg, "--kubeconfig", n.Kubeconfig,
		"--root-dir", filepath.Join(d, "root"), "--cert-dir", filepath.Join(d, "pki"), "--hostname-override", nodeName, "--node-ip", bridgeIP)
}

func (n *Node) kubeProxy() {
	n.daemon(n.t, "kube-proxy", n.bin("kube-proxy"), n.kubeProxyArgs()...)
}

// kubeProxyArgs leaves the host-wide conntrack sysctls alone.
func (n *Node) kubeProxyArgs(extra ...string) []string {
	return append([]string{"--kubeconfig", n.Kubeconfig, "--proxy-mode", "iptables",
		"--hostname-override", nodeName, "--cluster-cidr", podCIDR,
		"--conntrack-max-per-core", "0",
		"--conntrack-tcp-timeout-established", "0", "--conntrack-tcp-timeout-close-wait", "0",
		"--metrics-bind-address", "127.0.0.1:10249", "--healthz-bind-address", "127.0.0.1:10256"}, extra...)
}

func (n *Node) waitNodeReady() {
	n.waitFor(n.t, "node Ready", 120, func() error {
		node, err := n.Client.CoreV1().Nodes().Get(context.Background(), nodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				if c.Status == corev1.ConditionTrue {
					return nil
				}
				return fmt.Errorf("Ready=%s: %s", c.Status, c.Message)
			}
		}
		return fmt.Errorf("no Ready condition yet")
	})
}

// logs is the tail of each component's log, for a failure message.
func (n *Node) logs() string {
	var b strings.Builder
	for _, p := range n.procs {
		out, _ := os.ReadFile(p.log)
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(lines) > 25 {
			lines = lines[len(lines)-25:]
		}
		fmt.Fprintf(&b, "\n--- %s (%s), last %d lines:\n%s", p.name, p.log, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}
