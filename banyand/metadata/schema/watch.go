// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/pkg/errors"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// Backoff of the watcher between failed reads or watches.
const (
	minWatchBackoff = 100 * time.Millisecond
	maxWatchBackoff = 5 * time.Second
)

// watcher turns the changes of the namespace into handler events.
//
// One goroutine (run) owns everything below regCh: it reads the namespace once into cache at
// revision rev, then keeps ONE etcd watch on the namespace prefix from rev+1 and applies every
// event to cache before dispatching it. Registrations are served by the same goroutine, between
// two watch responses, by replaying cache to the new handler: the cache is exactly the state at
// rev and every later event reaches the handler through the watch, so a handler never misses an
// event nor sees one twice, and all handlers see the same order.
//
// A registration carries the store revision at the time RegisterHandler was called, and is
// replayed only once rev has reached it, so that the replay includes every write that completed
// before the call. Until then it waits in waiting, and the watcher asks etcd for a progress
// notification, which moves rev to the store's revision even when no event of the namespace
// comes.
//
// Invariant: every event with revision <= rev has been applied to cache and dispatched.
// The watch is restarted from rev+1 when it breaks (no leader, reconnect that gave up). If rev+1
// has been compacted away, the namespace is read again and the difference with cache is
// dispatched as deletions and additions, so handlers converge on the store's state.
type watcher struct {
	client *clientv3.Client
	keys   keyspace
	log    *logger.Logger

	// regCh carries registrations to run; it is read only once cache is loaded.
	regCh chan registration
	// restartCh makes run drop its watch and start a new one from rev+1, as if the watch broke.
	// Only tests send on it.
	restartCh chan struct{}

	// Owned by run.
	handlers []*handlerEntry
	waiting  []registration
	cache    map[string]cachedKV
	rev      int64
	loaded   bool
}

type handlerEntry struct {
	kinds map[Kind]bool
	h     EventHandler
	name  string
}

type registration struct {
	entry *handlerEntry
	// minRev is the revision the cache must have reached before the replay.
	minRev int64
	// done is closed once the handler has been replayed the cache and added.
	done chan struct{}
}

// cachedKV is the last known state of one key of the namespace.
type cachedKV struct {
	group, name string
	value       []byte
	createRev   int64
	modRev      int64
	kind        Kind
}

func newWatcher(client *clientv3.Client, keys keyspace, log *logger.Logger) *watcher {
	return &watcher{
		client:    client,
		keys:      keys,
		log:       log,
		regCh:     make(chan registration),
		restartCh: make(chan struct{}, 1),
		cache:     make(map[string]cachedKV),
	}
}

// progressInterval is how often the watcher repeats its request for a progress notification while
// a registration waits for the cache to catch up.
const progressInterval = 500 * time.Millisecond

// errRestart ends a watch on request.
var errRestart = errors.New("watch restart requested")

// run loads, watches and dispatches until ctx ends.
func (w *watcher) run(ctx context.Context) {
	backoff := minWatchBackoff
	needList := true
	for ctx.Err() == nil {
		if needList {
			if err := w.resync(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				w.log.Warn().Err(err).Dur("retry_in", backoff).Msg("cannot read the metadata store")
				w.pause(ctx, &backoff)
				continue
			}
			needList = false
		}
		before := w.rev
		err := w.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		if w.rev > before {
			backoff = minWatchBackoff
		}
		switch {
		case errors.Is(err, errRestart):
		case errors.Is(err, errCompacted):
			w.log.Warn().Int64("revision", w.rev+1).Msg("metadata watch fell behind compaction; reading the store again")
			needList = true
		default:
			w.log.Warn().Err(err).Int64("revision", w.rev+1).Dur("retry_in", backoff).Msg("metadata watch broke; restarting it")
			w.pause(ctx, &backoff)
		}
	}
}

// pause waits for the backoff (serving registrations meanwhile once the cache is loaded) and
// doubles it.
func (w *watcher) pause(ctx context.Context, backoff *time.Duration) {
	timer := time.NewTimer(*backoff)
	defer timer.Stop()
	*backoff = min(2**backoff, maxWatchBackoff)
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			return
		case reg := <-w.registrations():
			w.register(reg)
		}
	}
}

// registrations is regCh once the cache can be replayed, nil (never ready) before.
func (w *watcher) registrations() chan registration {
	if !w.loaded {
		return nil
	}
	return w.regCh
}

var errCompacted = errors.New("watch revision compacted")

// watch runs one etcd watch from rev+1 until it breaks; it never returns nil.
func (w *watcher) watch(ctx context.Context) error {
	// WithRequireLeader ends the watch when the member loses its leader, instead of leaving it
	// silently stale on a partitioned member.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := w.client.Watch(wctx, w.keys.root, clientv3.WithPrefix(), clientv3.WithRev(w.rev+1),
		clientv3.WithPrevKV(), clientv3.WithProgressNotify())
	ticker := time.NewTicker(progressInterval)
	defer ticker.Stop()
	for {
		// A pending restart wins over pending events, so that a test can make the restart
		// happen at a known point.
		select {
		case <-w.restartCh:
			return errRestart
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.restartCh:
			return errRestart
		case reg := <-w.regCh:
			if parked := w.register(reg); parked {
				w.requestProgress(wctx)
			}
		case <-ticker.C:
			if len(w.waiting) > 0 {
				w.requestProgress(wctx)
			}
		case resp, ok := <-wch:
			if !ok {
				return errors.New("watch channel closed")
			}
			if resp.CompactRevision != 0 {
				return errors.Wrapf(errCompacted, "compacted at %d", resp.CompactRevision)
			}
			if err := resp.Err(); err != nil {
				return err
			}
			if resp.IsProgressNotify() {
				// Every event up to the header's revision has been sent.
				w.rev = max(w.rev, resp.Header.Revision)
				w.serveWaiting()
				continue
			}
			// Events of one revision arrive in one response, so rev only moves past whole
			// revisions (a transaction is never half applied across a restart).
			for _, ev := range resp.Events {
				w.apply(ev)
			}
			if n := len(resp.Events); n > 0 {
				w.rev = max(w.rev, resp.Events[n-1].Kv.ModRevision)
			}
			w.serveWaiting()
		}
	}
}

// apply updates the cache with one event and dispatches it.
func (w *watcher) apply(ev *clientv3.Event) {
	key := string(ev.Kv.Key)
	kind, group, name, ok := w.keys.parse(key)
	if !ok {
		return
	}
	switch ev.Type {
	case mvccpb.PUT:
		kv := cachedKV{kind: kind, group: group, name: name, value: ev.Kv.Value, createRev: ev.Kv.CreateRevision, modRev: ev.Kv.ModRevision}
		w.cache[key] = kv
		w.dispatch(kv, false)
	case mvccpb.DELETE:
		// The last value: from the event, else from the cache, else only the key's names.
		last, known := w.cache[key]
		if prev := ev.PrevKv; prev != nil {
			last = cachedKV{kind: kind, group: group, name: name, value: prev.Value, createRev: prev.CreateRevision, modRev: prev.ModRevision}
			known = true
		}
		if !known {
			last = cachedKV{kind: kind, group: group, name: name}
		}
		delete(w.cache, key)
		w.dispatch(last, true)
	}
}

// dispatch delivers one event to every handler of its kind, each with its own copy of the spec.
func (w *watcher) dispatch(kv cachedKV, deleted bool) {
	for _, e := range w.handlers {
		if !e.kinds[kv.kind] {
			continue
		}
		spec, err := w.spec(kv)
		if err != nil {
			w.log.Error().Err(err).Str("handler", e.name).Msg("skipping an undecodable metadata event")
			continue
		}
		md := Metadata{Kind: kv.kind, Spec: spec}
		if deleted {
			e.h.OnDelete(md)
		} else {
			e.h.OnAddOrUpdate(md)
		}
	}
}

func (w *watcher) spec(kv cachedKV) (resource, error) {
	if kv.value == nil {
		return skeleton(kv.kind, kv.group, kv.name, kv.createRev, kv.modRev), nil
	}
	return decode(kv.kind, kv.group, kv.name, kv.value, kv.createRev, kv.modRev)
}

// register replays the cache to a new handler now if the cache has reached the registration's
// revision, or parks the registration until it has and reports that it did.
func (w *watcher) register(reg registration) (parked bool) {
	if reg.minRev <= w.rev {
		w.add(reg)
		return false
	}
	w.waiting = append(w.waiting, reg)
	return true
}

// requestProgress asks etcd to report the revision the watch has reached. The request must use
// the watch's own context, which selects the gRPC stream the watch runs on.
func (w *watcher) requestProgress(wctx context.Context) {
	if err := w.client.RequestProgress(wctx); err != nil && wctx.Err() == nil {
		w.log.Debug().Err(err).Msg("request watch progress")
	}
}

// serveWaiting replays the cache to the parked registrations the cache has caught up with.
func (w *watcher) serveWaiting() {
	if len(w.waiting) == 0 {
		return
	}
	rest := w.waiting[:0]
	for _, reg := range w.waiting {
		if reg.minRev <= w.rev {
			w.add(reg)
		} else {
			rest = append(rest, reg)
		}
	}
	clear(w.waiting[len(rest):])
	w.waiting = rest
}

// add replays the cache to a new handler, then subscribes it.
func (w *watcher) add(reg registration) {
	defer close(reg.done)
	e := reg.entry
	for _, key := range w.sortedKeys(func(_ string, kv cachedKV) bool { return e.kinds[kv.kind] }, false) {
		kv := w.cache[key]
		spec, err := w.spec(kv)
		if err != nil {
			w.log.Error().Err(err).Str("handler", e.name).Msg("skipping an undecodable resource in replay")
			continue
		}
		e.h.OnAddOrUpdate(Metadata{Kind: kv.kind, Spec: spec})
	}
	w.handlers = append(w.handlers, e)
	w.log.Debug().Str("handler", e.name).Int64("revision", w.rev).Msg("metadata handler registered")
}

// sortedKeys returns the cached keys that match, ordered by kind (groups first) then key, or the
// reverse of that order.
func (w *watcher) sortedKeys(match func(key string, kv cachedKV) bool, reverse bool) []string {
	keys := make([]string, 0, len(w.cache))
	for k, kv := range w.cache {
		if match(k, kv) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		c := compareEntries(w.cache[a].kind, a, w.cache[b].kind, b)
		if reverse {
			return -c
		}
		return c
	})
	return keys
}

func compareEntries(ka Kind, a string, kb Kind, b string) int {
	if ka != kb {
		return int(ka) - int(kb)
	}
	return strings.Compare(a, b)
}

// resync reads the whole namespace. The first time it only fills the cache; afterwards (the
// watch lost events to compaction) it dispatches the difference with the cache: deletions
// first, contents before their groups, then additions and updates, groups first.
func (w *watcher) resync(ctx context.Context) error {
	resp, err := w.client.Get(ctx, w.keys.root, clientv3.WithPrefix())
	if err != nil {
		return errors.Wrapf(err, "read %s", w.keys.root)
	}
	fresh := make(map[string]cachedKV, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		kind, group, name, ok := w.keys.parse(string(kv.Key))
		if !ok {
			continue
		}
		fresh[string(kv.Key)] = cachedKV{kind: kind, group: group, name: name, value: kv.Value, createRev: kv.CreateRevision, modRev: kv.ModRevision}
	}
	if w.loaded {
		w.diff(fresh)
	}
	w.cache = fresh
	w.rev = resp.Header.Revision
	w.loaded = true
	w.serveWaiting()
	return nil
}

// diff dispatches the changes from the cache to fresh; it leaves the cache as it was.
func (w *watcher) diff(fresh map[string]cachedKV) {
	gone := w.sortedKeys(func(key string, _ cachedKV) bool {
		_, ok := fresh[key]
		return !ok
	}, true)
	for _, key := range gone {
		w.dispatch(w.cache[key], true)
	}
	changed := make([]string, 0)
	for key, kv := range fresh {
		if old, ok := w.cache[key]; !ok || old.modRev != kv.modRev {
			changed = append(changed, key)
		}
	}
	slices.SortFunc(changed, func(a, b string) int {
		return compareEntries(fresh[a].kind, a, fresh[b].kind, b)
	})
	for _, key := range changed {
		w.dispatch(fresh[key], false)
	}
}
