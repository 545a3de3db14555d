// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

//go:build !linux

package fdlimit

func limit() (int, error) { return 0, ErrUnknown }

func inUse() (int, error) { return 0, ErrUnknown }
