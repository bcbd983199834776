// Command coredns is CoreDNS with only the plugins the single-node cluster's Corefile uses
// (kube/manifests/coredns.yaml): cluster DNS for cluster.local, health and readiness, no
// forwarding anywhere outside the cluster. Its own module so that CoreDNS's client-go version
// never meets the one Kubernetes v1.34 pins.
package main

import (
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
