// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package netserver

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/skywalking-banyandb/pkg/fdlimit"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// connSharePercent is the share of the process's file descriptor limit that the accepted
// connections of every listener together may hold. The rest is the storage's: without a bound,
// 1,100 idle TCP connections to a node under ulimit -n 1024 took every descriptor and the next
// flush of a table ended the process (Pebble panics when it cannot create its WAL).
const connSharePercent = 50

// refusedLogPeriod is the least time between two logs of refused connections.
const refusedLogPeriod = 10 * time.Second

// connBudget counts the open accepted connections of every listener of the process.
type connBudget struct {
	open atomic.Int64
	// max is the most open connections; 0 sets no bound (the limit is unknown).
	max func() int64
	// refused counts the connections closed at accept since the last log, lastLog is when that was.
	refused atomic.Int64
	lastLog atomic.Int64
}

// processConns is the budget every Listener shares.
var processConns = &connBudget{max: sync.OnceValue(func() int64 {
	lim, err := fdlimit.Limit()
	if err != nil {
		return 0
	}
	return int64(lim) * connSharePercent / 100
})}

// OpenConnections returns how many accepted connections the listeners of this process hold.
func OpenConnections() int64 { return processConns.open.Load() }

// limitedListener closes at once a connection accepted while the budget is spent, so that a
// client that opens connections without end costs the process a bounded number of descriptors.
type limitedListener struct {
	net.Listener
	budget *connBudget
	log    *logger.Logger
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		most := l.budget.max()
		if most <= 0 {
			return c, nil
		}
		if l.budget.open.Add(1) <= most {
			return &countedConn{Conn: c, budget: l.budget}, nil
		}
		l.budget.open.Add(-1)
		_ = c.Close()
		l.logRefused(most)
	}
}

// logRefused logs the refused connections at most once per refusedLogPeriod.
func (l *limitedListener) logRefused(most int64) {
	n := l.budget.refused.Add(1)
	now := time.Now().UnixNano()
	last := l.budget.lastLog.Load()
	if now-last < int64(refusedLogPeriod) || !l.budget.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.budget.refused.Add(-n)
	l.log.Warn().Int64("refused", n).Int64("max_connections", most).
		Msg("closed new connections (of every listener, since the last such log): the process holds as many as its file descriptor limit allows")
}

// countedConn gives its slot back to the budget when it is first closed.
type countedConn struct {
	net.Conn
	budget *connBudget
	once   sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.budget.open.Add(-1) })
	return err
}
