// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import "github.com/pkg/errors"

// ErrBadRequest is returned when a request cannot be served as given: a missing resource,
// metadata or name, a name that cannot be a key (it contains "/"), or a List of index rules or
// bindings without a group ("group should not be empty"). Callers test it with errors.Is.
var ErrBadRequest = errors.New("banyandb: bad request")
