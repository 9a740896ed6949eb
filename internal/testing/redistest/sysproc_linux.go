package redistest

import "syscall"

// sysProcAttr kills redis-server if the test binary dies without running
// its cleanups (a timeout panic, say), so no server outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
