package protector

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

const (
	defaultCgroupMaxPath = "/sys/fs/cgroup/memory.max"
	defaultMeminfoPath   = "/proc/meminfo"
)

// totalMemory returns the memory available to the process: the cgroup v2 limit when one is set,
// capped by the machine's MemTotal (a cgroup limit may exceed the physical memory).
func totalMemory(cgroupMaxPath, meminfoPath string) (uint64, error) {
	cgroup, hasCgroup, cgErr := readCgroupMax(cgroupMaxPath)
	machine, memErr := readMemTotal(meminfoPath)
	switch {
	case hasCgroup && memErr == nil:
		return min(cgroup, machine), nil
	case hasCgroup:
		return cgroup, nil
	case memErr == nil:
		return machine, nil
	case cgErr != nil:
		return 0, errors.Wrapf(memErr, "and %v", cgErr)
	default:
		return 0, memErr
	}
}

// readCgroupMax reads a cgroup v2 memory.max file; a missing file or "max" means no limit.
func readCgroupMax(path string) (uint64, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, false, nil
		}
		return 0, false, errors.Wrapf(err, "read %s", path)
	}
	text := strings.TrimSpace(string(data))
	if text == "max" || text == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return 0, false, errors.Wrapf(err, "parse %s", path)
	}
	return v, v > 0, nil
}

// readMemTotal returns the MemTotal line of a /proc/meminfo file in bytes.
func readMemTotal(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, errors.Wrapf(err, "read %s", path)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "MemTotal:" {
			continue
		}
		v, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			return 0, errors.Wrapf(err, "parse MemTotal in %s", path)
		}
		if len(fields) >= 3 && strings.EqualFold(fields[2], "kB") {
			v *= 1024
		}
		return v, nil
	}
	return 0, errors.Errorf("no MemTotal in %s", path)
}

// percentOf returns percent% of total without overflowing for totals near 2^64.
func percentOf(total uint64, percent int) uint64 {
	p := uint64(percent)
	return total/100*p + total%100*p/100
}
