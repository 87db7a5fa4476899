// Go's own etcd client (clientv3) as a column of benchmarks/compare.py: the workloads of
// benchmarks/peers.py, the same keys, values and counts, measured the same way, printed as
// one JSON object with the same keys.
//
// Usage: bench WORKLOAD ENDPOINT PARAMS_JSON
//
// WORKLOAD is one of sequential_put, sequential_get, sequential_serializable_get,
// concurrent_put, concurrent_get (goroutines sharing one client), range and watch;
// PARAMS_JSON is the object compare.py gives peers.py. Anything that fails ends the
// program with a message on stderr and a non-zero status.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
	"golang.org/x/sys/unix"
)

// The deadline of one call, and of the whole watch, as the Python adapters give theirs.
const (
	callTimeout  = 30 * time.Second
	watchTimeout = 120 * time.Second
	// Events watched untimed before the timed replay (WATCH_WARM_UP_EVENTS in peers.py).
	watchWarmUpEvents = 100
	// Untimed calls before a measurement, at most a tenth of the timed ones (peers.py's
	// WARM_UP).
	warmUp = 100
)

var value = strings.Repeat("v", 100)

type params struct {
	Operations int   `json:"operations"`
	Ranges     int   `json:"ranges"`
	Events     int   `json:"events"`
	InFlight   int   `json:"in_flight"`
	WatchStart int64 `json:"watch_start"`
}

type result map[string]interface{}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: bench WORKLOAD ENDPOINT PARAMS_JSON")
		os.Exit(2)
	}
	workload, endpoint := os.Args[1], os.Args[2]
	var p params
	if err := json.Unmarshal([]byte(os.Args[3]), &p); err != nil {
		fail("reading the parameters: %v", err)
	}
	if workload == "import" {
		emit(result{"unsupported": "a compiled program imports nothing"})
		return
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		DialTimeout: callTimeout,
	})
	if err != nil {
		fail("connecting to %s: %v", endpoint, err)
	}
	var measured result
	switch workload {
	case "sequential_put", "sequential_get", "sequential_serializable_get":
		measured = timed(operation(client, workload), p.Operations)
	case "concurrent_put", "concurrent_get":
		measured = inFlight(operation(client, workload), p.Operations, p.InFlight)
	case "range":
		measured = timed(func(int) error { return count(client, "/bench/range/") }, p.Ranges)
	case "watch":
		// Untimed first, as peers.py does: the stream and the code path are then ready.
		watch(client, "/bench/watch/", p.WatchStart, smaller(watchWarmUpEvents, p.Events))
		measured = watch(client, "/bench/watch/", p.WatchStart, p.Events)
	default:
		fail("unknown workload %q", workload)
	}
	measured["peak_rss_mib"] = peakRSSMiB()
	emit(measured)
	client.Close()
}

// operation is one call of a key-value workload; the i-th call touches /bench/kv/(i % 1000).
func operation(client *clientv3.Client, workload string) func(int) error {
	key := func(i int) string { return "/bench/kv/" + strconv.Itoa(i%1000) }
	if strings.HasSuffix(workload, "put") {
		return func(i int) error {
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			_, err := client.Put(ctx, key(i), value)
			return err
		}
	}
	var options []clientv3.OpOption
	if strings.Contains(workload, "serializable") {
		options = append(options, clientv3.WithSerializable())
	}
	return func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		_, err := client.Get(ctx, key(i), options...)
		return err
	}
}

// count reads every key under prefix, as the adapters' count does.
func count(client *clientv3.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	response, err := client.Get(ctx, prefix, clientv3.WithPrefix())
	if err == nil && len(response.Kvs) == 0 {
		err = fmt.Errorf("nothing under %s", prefix)
	}
	return err
}

func warmUpCalls(count int) int {
	calls := count / 10
	if calls > warmUp {
		calls = warmUp
	}
	if calls < 1 {
		calls = 1
	}
	return calls
}

func warm(call func(int) error, count int) {
	for i := 0; i < warmUpCalls(count); i++ {
		if err := call(i); err != nil {
			fail("warming up: %v", err)
		}
	}
}

// timed makes count calls one after the other.
func timed(call func(int) error, count int) result {
	warm(call, count)
	latencies := make([]float64, 0, count)
	cpu, started := cpuSeconds(), time.Now()
	for i := 0; i < count; i++ {
		begun := time.Now()
		if err := call(i); err != nil {
			fail("call %d: %v", i, err)
		}
		latencies = append(latencies, time.Since(begun).Seconds())
	}
	return summary(latencies, time.Since(started).Seconds(), cpuSeconds()-cpu)
}

// inFlight keeps inFlight calls out at once: as many goroutines, sharing the client, each
// making count / inFlight calls one after the other (peers.py's asyncio tasks).
func inFlight(call func(int) error, count, inFlight int) result {
	warm(call, count)
	share := count / inFlight
	latencies := make([][]float64, inFlight)
	failures := make(chan error, inFlight)
	cpu, started := cpuSeconds(), time.Now()
	for n := 0; n < inFlight; n++ {
		go func(n int) {
			mine := make([]float64, 0, share)
			for i := n * share; i < (n+1)*share; i++ {
				begun := time.Now()
				if err := call(i); err != nil {
					failures <- fmt.Errorf("call %d: %v", i, err)
					return
				}
				mine = append(mine, time.Since(begun).Seconds())
			}
			latencies[n] = mine
			failures <- nil
		}(n)
	}
	for n := 0; n < inFlight; n++ {
		if err := <-failures; err != nil {
			fail("%v", err)
		}
	}
	elapsed, used := time.Since(started).Seconds(), cpuSeconds()-cpu
	var all []float64
	for _, mine := range latencies {
		all = append(all, mine...)
	}
	return summary(all, elapsed, used)
}

// summary gives the keys of peers.py's _summary: the median as statistics.median takes it
// and the 99th percentile as the same index into the sorted latencies.
func summary(latencies []float64, elapsed, cpu float64) result {
	n := len(latencies)
	if n == 0 {
		fail("no calls were timed")
	}
	sort.Float64s(latencies)
	median := latencies[n/2]
	if n%2 == 0 {
		median = (latencies[n/2-1] + latencies[n/2]) / 2
	}
	p99 := int(float64(n) * 0.99)
	if p99 > n-1 {
		p99 = n - 1
	}
	return result{
		"ops_per_s":     float64(n) / elapsed,
		"p50_ms":        median * 1000,
		"p99_ms":        latencies[p99] * 1000,
		"cpu_us_per_op": cpu / float64(n) * 1e6,
	}
}

// watch replays the events under prefix from revision start until it has seen the first
// events of them; the clock runs from opening the watch to cancelling it.
func watch(client *clientv3.Client, prefix string, start int64, events int) result {
	cpu, started := cpuSeconds(), time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
	keys := make([]string, 0, events)
	for response := range client.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(start)) {
		if err := response.Err(); err != nil {
			fail("watching: %v", err)
		}
		for _, event := range response.Events {
			keys = append(keys, string(event.Kv.Key))
		}
		if len(keys) >= events {
			break
		}
	}
	cancel()
	elapsed, used := time.Since(started).Seconds(), cpuSeconds()-cpu
	if len(keys) < events {
		fail("the watch ended after %d of %d events", len(keys), events)
	}
	ordered := true
	for i := 0; i < events; i++ {
		if keys[i] != fmt.Sprintf("%s%06d", prefix, i) {
			ordered = false
			break
		}
	}
	return result{
		"events_per_s":         float64(events) / elapsed,
		"cpu_us_per_event":     used / float64(events) * 1e6,
		"complete_and_ordered": ordered,
	}
}

// cpuSeconds is the CPU time of the whole process, every thread, user and system: the clock
// Python's time.process_time reads.
func cpuSeconds() float64 {
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &now); err != nil {
		fail("reading the CPU clock: %v", err)
	}
	return float64(now.Sec) + float64(now.Nsec)/1e9
}

// peakRSSMiB is this program's peak resident memory, VmHWM, as peers.py reads it.
func peakRSSMiB() float64 {
	if status, err := os.Open("/proc/self/status"); err == nil {
		defer status.Close()
		lines := bufio.NewScanner(status)
		for lines.Scan() {
			fields := strings.Fields(lines.Text())
			if len(fields) >= 2 && fields[0] == "VmHWM:" {
				if kib, err := strconv.ParseFloat(fields[1], 64); err == nil {
					return kib / 1024
				}
			}
		}
	}
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fail("reading the peak memory: %v", err)
	}
	return float64(usage.Maxrss) / 1024
}

func emit(measured result) {
	line, err := json.Marshal(measured)
	if err != nil {
		fail("writing the result: %v", err)
	}
	fmt.Println(string(line))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func smaller(a, b int) int {
	if a < b {
		return a
	}
	return b
}
