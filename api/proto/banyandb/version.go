// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package apiversion holds the version of the gRPC API this server speaks.
package apiversion

// Version is the API version, the same as upstream BanyanDB's for wire compatibility.
const Version = "0.10"

// Revision is the source revision the binary was built from; set with -ldflags at build time.
var Revision = "unknown"
