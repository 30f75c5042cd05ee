// Command pause is the test bed's pod sandbox image (tagged registry.k8s.io/pause:3.10): it
// holds a pod's namespaces, sleeping until SIGTERM or SIGINT, and reaps any child that ends up
// parented to it (it is PID 1 when the pod shares its PID namespace).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
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
