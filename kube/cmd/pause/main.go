// Command pause is the sandbox ("pause") container of every pod on the single-node cluster: it
// holds the pod's namespaces, reaps the zombies it inherits as PID 1, and exits on SIGINT or
// SIGTERM. Built here (kube/cluster.sh) because no registry can be reached for the upstream one.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
