package agent

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// allocatable is what the node offers to pods: the flags when given, else
// the machine's memory and cores.
func allocatable(cfg Config) (mem, cpu string, err error) {
	mem, cpu = cfg.Memory, cfg.CPU
	if cpu == "" {
		cpu = strconv.Itoa(runtime.NumCPU())
	}
	if mem == "" {
		kb, err := memTotalKiB()
		if err != nil {
			return "", "", fmt.Errorf("read the machine's memory (or pass --memory): %w", err)
		}
		mem = resource.NewQuantity(kb*1024, resource.BinarySI).String()
	}
	return mem, cpu, nil
}

func memTotalKiB() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			return strconv.ParseInt(fields[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}
