// The Go side of the interoperability tests: Go's own etcd client and its concurrency
// recipes, driven by tests/interop from Python.
//
// Usage: interop <command> --endpoints=127.0.0.1:2379 [options] [arguments]
//
// Each command prints one JSON object a line on stdout ({"event": ..., ...}), and exits
// non-zero with a message on stderr when anything fails. A command that holds something (a
// lock, a leadership, a barrier, a registration) waits for commands on stdin, one a line;
// the end of stdin means "let go". Every call to etcd has a deadline: --timeout for a
// call, --wait for a call that waits for another participant, and --deadline for the
// whole run. Go's recipes take no context, so their calls are bounded from outside.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
	"go.etcd.io/etcd/clientv3/naming/endpoints"
	recipe "go.etcd.io/etcd/contrib/recipes"
)

// run holds what every command shares: the client, the deadlines and stdin.
type run struct {
	client   *clientv3.Client
	sessions []*concurrency.Session
	ctx      context.Context // ends at --deadline: the sessions' keep-alives live in it
	timeout  time.Duration
	wait     time.Duration
	commands chan string
}

type command struct {
	usage string
	run   func(r *run, flags *flag.FlagSet, args []string)
	flags func(flags *flag.FlagSet)
}

var commands = map[string]command{}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		usage()
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	endpointList := flags.String("endpoints", "127.0.0.1:2379", "etcd's client URLs, comma-separated")
	timeout := flags.Duration("timeout", 10*time.Second, "the deadline of one call")
	wait := flags.Duration("wait", 30*time.Second, "the deadline of a call that waits for others")
	deadline := flags.Duration("deadline", 100*time.Second, "the deadline of the whole run")
	if cmd.flags != nil {
		cmd.flags(flags)
	}
	if err := flags.Parse(os.Args[2:]); err != nil {
		fail("%v", err)
	}
	time.AfterFunc(*deadline, func() { fail("still running after --deadline=%v", *deadline) })
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(*endpointList, ","),
		DialTimeout: *timeout,
		Context:     ctx,
	})
	if err != nil {
		fail("connecting to %s: %v", *endpointList, err)
	}
	defer client.Close()
	r := &run{client: client, ctx: ctx, timeout: *timeout, wait: *wait, commands: readLines()}
	cmd.run(r, flags, flags.Args())
	// Revoke the sessions' leases, so that none outlives the run.
	for _, session := range r.sessions {
		check(session.Close(), "closing a session")
	}
}

func usage() {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "usage: interop <command> --endpoints=URLS [options] [arguments]")
	for _, name := range names {
		fmt.Fprintf(os.Stderr, "  %-16s %s\n", name, commands[name].usage)
	}
	os.Exit(2)
}

// emit prints one event as a JSON line.
func emit(event string, fields map[string]interface{}) {
	line := map[string]interface{}{"event": event}
	for key, value := range fields {
		line[key] = value
	}
	data, err := json.Marshal(line)
	if err != nil {
		fail("encoding %v: %v", line, err)
	}
	fmt.Println(string(data))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "interop: "+format+"\n", args...)
	os.Exit(1)
}

func check(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

// readLines passes stdin's lines on; the channel is closed at the end of stdin.
func readLines() chan string {
	lines := make(chan string)
	go func() {
		scanner := bufio.NewScanner(os.Stdin)
		for scanner.Scan() {
			lines <- strings.TrimSpace(scanner.Text())
		}
		close(lines)
	}()
	return lines
}

// next is the next command from stdin, or "" at its end.
func (r *run) next() string {
	select {
	case line, ok := <-r.commands:
		if !ok {
			return ""
		}
		return line
	case <-r.ctx.Done():
		fail("no command on stdin before --deadline")
	}
	return ""
}

// call is a context for one call; waiting says it may wait for another participant.
func (r *run) call(waiting bool) (context.Context, context.CancelFunc) {
	if waiting {
		return context.WithTimeout(r.ctx, r.wait)
	}
	return context.WithTimeout(r.ctx, r.timeout)
}

// bounded runs a call that takes no context (Go's recipes), failing after limit.
func bounded(what string, limit time.Duration, call func() error) {
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		check(err, what)
	case <-time.After(limit):
		fail("%s: no answer within %v", what, limit)
	}
}

func (r *run) session(ttl int) *concurrency.Session {
	session, err := concurrency.NewSession(r.client, concurrency.WithTTL(ttl), concurrency.WithContext(r.ctx))
	check(err, "starting a session")
	r.sessions = append(r.sessions, session)
	return session
}

func (r *run) get(key string, opts ...clientv3.OpOption) *clientv3.GetResponse {
	ctx, cancel := r.call(false)
	defer cancel()
	response, err := r.client.Get(ctx, key, opts...)
	check(err, "reading "+key)
	return response
}

func (r *run) put(key, value string, opts ...clientv3.OpOption) {
	ctx, cancel := r.call(false)
	defer cancel()
	_, err := r.client.Put(ctx, key, value, opts...)
	check(err, "writing "+key)
}

func (r *run) delete(key string) {
	ctx, cancel := r.call(false)
	defer cancel()
	_, err := r.client.Delete(ctx, key)
	check(err, "deleting "+key)
}

func (r *run) count(prefix string) int64 {
	return r.get(prefix, clientv3.WithPrefix(), clientv3.WithCountOnly()).Count
}

// counter reads a decimal counter (0 when absent).
func (r *run) counter(key string) int {
	response := r.get(key)
	if len(response.Kvs) == 0 {
		return 0
	}
	value, err := strconv.Atoi(string(response.Kvs[0].Value))
	check(err, "the counter "+key)
	return value
}

func pause(milliseconds int) {
	time.Sleep(time.Duration(milliseconds) * time.Millisecond)
}

// --- concurrency.Mutex -------------------------------------------------------------------

func init() {
	var name, counter *string
	var iterations, pauseMs, ttl *int
	commands["lock-count"] = command{
		usage: "--name=LOCK --counter=KEY --iterations=N: add 1 to KEY N times, under the lock",
		flags: func(flags *flag.FlagSet) {
			name = flags.String("name", "", "the lock's name")
			counter = flags.String("counter", "", "the counter's key")
			iterations = flags.Int("iterations", 10, "how many increments")
			pauseMs = flags.Int("pause-ms", 5, "milliseconds between reading and writing")
			ttl = flags.Int("ttl", 10, "the session's TTL")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			mutex := concurrency.NewMutex(r.session(*ttl), *name)
			for i := 0; i < *iterations; i++ {
				ctx, cancel := r.call(true)
				check(mutex.Lock(ctx), "locking "+*name)
				cancel()
				value := r.counter(*counter)
				pause(*pauseMs)
				r.put(*counter, strconv.Itoa(value+1))
				ctx, cancel = r.call(false)
				check(mutex.Unlock(ctx), "unlocking "+*name)
				cancel()
				emit("incremented", map[string]interface{}{"from": value})
			}
			emit("done", map[string]interface{}{"increments": *iterations})
		},
	}

	var holdName *string
	var holdTTL *int
	var waitFor *time.Duration
	commands["lock-hold"] = command{
		usage: "--name=LOCK: take the lock, hold it until stdin ends (or says unlock)",
		flags: func(flags *flag.FlagSet) {
			holdName = flags.String("name", "", "the lock's name")
			holdTTL = flags.Int("ttl", 10, "the session's TTL")
			waitFor = flags.Duration("wait-for", 0, "give up waiting after this long (0: --wait)")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			mutex := concurrency.NewMutex(r.session(*holdTTL), *holdName)
			ctx, cancel := r.call(true)
			if *waitFor > 0 {
				cancel()
				ctx, cancel = context.WithTimeout(r.ctx, *waitFor)
			}
			err := mutex.Lock(ctx)
			expired := ctx.Err() != nil
			cancel()
			if err != nil && expired && *waitFor > 0 {
				emit("timed-out", nil)
				return
			}
			check(err, "locking "+*holdName)
			emit("locked", map[string]interface{}{"key": mutex.Key()})
			for line := r.next(); line != "" && line != "unlock"; line = r.next() {
				fail("unknown command %q", line)
			}
			ctx, cancel = r.call(false)
			defer cancel()
			check(mutex.Unlock(ctx), "unlocking "+*holdName)
			emit("unlocked", nil)
		},
	}
}

// --- concurrency.Election ----------------------------------------------------------------

func init() {
	var name, value *string
	var ttl *int
	commands["campaign"] = command{
		usage: "--name=ELECTION --value=V: lead, then obey stdin (proclaim V, resign)",
		flags: func(flags *flag.FlagSet) {
			name = flags.String("name", "", "the election's name")
			value = flags.String("value", "", "the value to lead with")
			ttl = flags.Int("ttl", 10, "the session's TTL")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			election := concurrency.NewElection(r.session(*ttl), *name)
			emit("campaigning", nil)
			ctx, cancel := r.call(true)
			check(election.Campaign(ctx, *value), "campaigning in "+*name)
			cancel()
			emit("elected", map[string]interface{}{"key": election.Key(), "value": *value})
			for {
				line := r.next()
				switch {
				case strings.HasPrefix(line, "proclaim "):
					proclaimed := strings.TrimPrefix(line, "proclaim ")
					ctx, cancel := r.call(false)
					check(election.Proclaim(ctx, proclaimed), "proclaiming in "+*name)
					cancel()
					emit("proclaimed", map[string]interface{}{"value": proclaimed})
				case line == "resign" || line == "":
					ctx, cancel := r.call(false)
					check(election.Resign(ctx), "resigning from "+*name)
					cancel()
					emit("resigned", nil)
					return
				default:
					fail("unknown command %q", line)
				}
			}
		},
	}

	var observeName *string
	var leaders *int
	commands["observe"] = command{
		usage: "--name=ELECTION --leaders=N: print the leader and its changes, N in all",
		flags: func(flags *flag.FlagSet) {
			observeName = flags.String("name", "", "the election's name")
			leaders = flags.Int("leaders", 1, "how many leaders (or values) to print")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			election := concurrency.NewElection(r.session(10), *observeName)
			ctx, cancel := r.call(true)
			defer cancel()
			observed := election.Observe(ctx)
			emit("observing", nil)
			for i := 0; i < *leaders; i++ {
				response, ok := <-observed
				if !ok {
					fail("observing %s: ended after %d leaders: %v", *observeName, i, ctx.Err())
				}
				kv := response.Kvs[0]
				emit("leader", map[string]interface{}{"key": string(kv.Key), "value": string(kv.Value)})
			}
		},
	}

	var leaderName *string
	commands["leader"] = command{
		usage: "--name=ELECTION: print the leader, or no-leader",
		flags: func(flags *flag.FlagSet) {
			leaderName = flags.String("name", "", "the election's name")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			election := concurrency.NewElection(r.session(10), *leaderName)
			ctx, cancel := r.call(false)
			defer cancel()
			response, err := election.Leader(ctx)
			if errors.Is(err, concurrency.ErrElectionNoLeader) {
				emit("no-leader", nil)
				return
			}
			check(err, "the leader of "+*leaderName)
			kv := response.Kvs[0]
			emit("leader", map[string]interface{}{"key": string(kv.Key), "value": string(kv.Value)})
		},
	}
}

// --- recipe.Barrier and recipe.DoubleBarrier ---------------------------------------------

func init() {
	var name *string
	barrierFlags := func(flags *flag.FlagSet) {
		name = flags.String("name", "", "the barrier's key")
	}
	commands["barrier-hold"] = command{
		usage: "--name=KEY: hold the barrier (held: false when it already was)",
		flags: barrierFlags,
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			var err error
			bounded("holding "+*name, r.timeout, func() error {
				err = recipe.NewBarrier(r.client, *name).Hold()
				if errors.Is(err, recipe.ErrKeyExists) {
					return nil
				}
				return err
			})
			emit("held", map[string]interface{}{"held": err == nil})
		},
	}
	commands["barrier-release"] = command{
		usage: "--name=KEY: release the barrier",
		flags: barrierFlags,
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			bounded("releasing "+*name, r.timeout, recipe.NewBarrier(r.client, *name).Release)
			emit("released", nil)
		},
	}
	commands["barrier-wait"] = command{
		usage: "--name=KEY: wait until the barrier is released",
		flags: barrierFlags,
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			emit("waiting", nil)
			bounded("waiting at "+*name, r.wait, recipe.NewBarrier(r.client, *name).Wait)
			emit("passed", nil)
		},
	}

	var doubleName *string
	var count, ttl *int
	commands["double-barrier"] = command{
		usage: "--name=KEY --count=N: enter, then leave when stdin says leave (or ends)",
		flags: func(flags *flag.FlagSet) {
			doubleName = flags.String("name", "", "the barrier's key")
			count = flags.Int("count", 2, "how many participants")
			ttl = flags.Int("ttl", 10, "the session's TTL")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			barrier := recipe.NewDoubleBarrier(r.session(*ttl), *doubleName, *count)
			emit("entering", nil)
			bounded("entering "+*doubleName, r.wait, barrier.Enter)
			emit("entered", nil)
			if line := r.next(); line != "" && line != "leave" {
				fail("unknown command %q", line)
			}
			emit("leaving", nil)
			bounded("leaving "+*doubleName, r.wait, barrier.Leave)
			emit("left", nil)
		},
	}
}

// --- recipe.Queue and recipe.PriorityQueue -----------------------------------------------

func init() {
	var name *string
	var count *int
	queueFlags := func(flags *flag.FlagSet) {
		name = flags.String("name", "", "the queue's key prefix")
		count = flags.Int("count", 1, "how many items to take")
	}
	dequeue := func(r *run, take func() (string, error)) {
		for i := 0; i < *count; i++ {
			var value string
			bounded("dequeuing from "+*name, r.wait, func() (err error) {
				value, err = take()
				return err
			})
			emit("dequeued", map[string]interface{}{"value": value})
		}
	}
	commands["queue-enqueue"] = command{
		usage: "--name=KEY VALUE...: add the values in this order",
		flags: queueFlags,
		run: func(r *run, _ *flag.FlagSet, args []string) {
			queue := recipe.NewQueue(r.client, *name)
			for _, value := range args {
				bounded("enqueuing on "+*name, r.timeout, func() error { return queue.Enqueue(value) })
				emit("enqueued", map[string]interface{}{"value": value})
			}
		},
	}
	commands["queue-dequeue"] = command{
		usage: "--name=KEY --count=N: take N values, waiting for them",
		flags: queueFlags,
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			dequeue(r, recipe.NewQueue(r.client, *name).Dequeue)
		},
	}
	commands["priority-enqueue"] = command{
		usage: "--name=KEY PRIORITY:VALUE...: add the values in this order",
		flags: queueFlags,
		run: func(r *run, _ *flag.FlagSet, args []string) {
			queue := recipe.NewPriorityQueue(r.client, *name)
			for _, item := range args {
				fields := strings.SplitN(item, ":", 2)
				if len(fields) != 2 {
					fail("%q is not PRIORITY:VALUE", item)
				}
				priority, err := strconv.ParseUint(fields[0], 10, 16)
				check(err, "the priority of "+item)
				bounded("enqueuing on "+*name, r.timeout, func() error {
					return queue.Enqueue(fields[1], uint16(priority))
				})
				emit("enqueued", map[string]interface{}{"value": fields[1], "priority": priority})
			}
		},
	}
	commands["priority-dequeue"] = command{
		usage: "--name=KEY --count=N: take N values, waiting for them",
		flags: queueFlags,
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			dequeue(r, recipe.NewPriorityQueue(r.client, *name).Dequeue)
		},
	}
}

// --- recipe.RWMutex ----------------------------------------------------------------------

// Under the lock, each participant puts a marker key under STATE/inside/ and checks who
// else is inside: a writer must find only its own marker, a reader no writer's. A writer
// also adds 1 to the counter STATE/counter, which loses no update only if writers exclude
// each other.
func init() {
	var name, state, role, id *string
	var iterations, pauseMs, ttl *int
	commands["rwmutex"] = command{
		usage: "--name=KEY --state=KEY --role=reader|writer --iterations=N: take the lock N times",
		flags: func(flags *flag.FlagSet) {
			name = flags.String("name", "", "the lock's key prefix")
			state = flags.String("state", "", "the prefix of the markers and the counter")
			role = flags.String("role", "reader", "reader or writer")
			id = flags.String("id", "go", "this participant's name in its markers")
			iterations = flags.Int("iterations", 5, "how many times to take the lock")
			pauseMs = flags.Int("pause-ms", 10, "milliseconds to stay inside")
			ttl = flags.Int("ttl", 10, "the session's TTL")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			if *role != "reader" && *role != "writer" {
				fail("--role must be reader or writer, not %q", *role)
			}
			mutex := recipe.NewRWMutex(r.session(*ttl), *name)
			inside := *state + "/inside/"
			overlaps := 0
			// A writer must be alone; a reader must see no writer.
			alone := func() bool {
				if *role == "writer" {
					return r.count(inside) == 1
				}
				return r.count(inside+"writer/") == 0
			}
			for i := 0; i < *iterations; i++ {
				marker := fmt.Sprintf("%s%s/%s-%d", inside, *role, *id, i)
				if *role == "writer" {
					bounded("write-locking "+*name, r.wait, mutex.Lock)
				} else {
					bounded("read-locking "+*name, r.wait, mutex.RLock)
				}
				r.put(marker, "")
				if !alone() {
					overlaps++
				}
				if *role == "writer" {
					value := r.counter(*state + "/counter")
					pause(*pauseMs)
					r.put(*state+"/counter", strconv.Itoa(value+1))
				} else {
					pause(*pauseMs)
				}
				if !alone() {
					overlaps++
				}
				r.delete(marker)
				if *role == "writer" {
					bounded("write-unlocking "+*name, r.timeout, mutex.Unlock)
				} else {
					bounded("read-unlocking "+*name, r.timeout, mutex.RUnlock)
				}
			}
			emit("done", map[string]interface{}{"role": *role, "iterations": *iterations, "overlaps": overlaps})
		},
	}
}

// --- naming/endpoints --------------------------------------------------------------------

func init() {
	var target, addr, metadata *string
	var ttl *int
	commands["endpoint-add"] = command{
		usage: "--target=SERVICE --addr=ADDR [--metadata=JSON]: register until stdin ends",
		flags: func(flags *flag.FlagSet) {
			target = flags.String("target", "", "the service's name")
			addr = flags.String("addr", "", "the endpoint's address")
			metadata = flags.String("metadata", "", "the endpoint's metadata, as JSON")
			ttl = flags.Int("ttl", 10, "the TTL of the registration's lease")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			var meta interface{}
			if *metadata != "" {
				check(json.Unmarshal([]byte(*metadata), &meta), "--metadata")
			}
			manager, err := endpoints.NewManager(r.client, *target)
			check(err, "the endpoints manager")
			ctx, cancel := r.call(false)
			lease, err := r.client.Grant(ctx, int64(*ttl))
			cancel()
			check(err, "granting a lease")
			alive, err := r.client.KeepAlive(r.ctx, lease.ID)
			check(err, "keeping the lease alive")
			go func() {
				for range alive {
				}
			}()
			key := *target + "/" + *addr
			endpoint := endpoints.Endpoint{Addr: *addr, Metadata: meta}
			ctx, cancel = r.call(false)
			check(manager.AddEndpoint(ctx, key, endpoint, clientv3.WithLease(lease.ID)), "adding "+key)
			cancel()
			emit("added", map[string]interface{}{"key": key, "lease": int64(lease.ID)})
			if line := r.next(); line != "" && line != "delete" {
				fail("unknown command %q", line)
			}
			ctx, cancel = r.call(false)
			defer cancel()
			check(manager.DeleteEndpoint(ctx, key), "deleting "+key)
			_, err = r.client.Revoke(ctx, lease.ID)
			check(err, "revoking the lease")
			emit("deleted", map[string]interface{}{"key": key})
		},
	}

	var listTarget *string
	commands["endpoint-list"] = command{
		usage: "--target=SERVICE: print the service's endpoints",
		flags: func(flags *flag.FlagSet) {
			listTarget = flags.String("target", "", "the service's name")
		},
		run: func(r *run, _ *flag.FlagSet, _ []string) {
			manager, err := endpoints.NewManager(r.client, *listTarget)
			check(err, "the endpoints manager")
			ctx, cancel := r.call(false)
			defer cancel()
			listed, err := manager.List(ctx)
			check(err, "listing "+*listTarget)
			keys := make([]string, 0, len(listed))
			for key := range listed {
				keys = append(keys, key)
			}
			sort.Strings(keys)
			for _, key := range keys {
				endpoint := listed[key]
				emit("endpoint", map[string]interface{}{
					"key": key, "addr": endpoint.Addr, "metadata": endpoint.Metadata,
				})
			}
			emit("listed", map[string]interface{}{"count": len(listed)})
		},
	}
}
