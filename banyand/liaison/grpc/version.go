// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"

	apiversion "github.com/apache/skywalking-banyandb/api/proto/banyandb"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
)

// commonServer implements banyandb.common.v1.Service.
type commonServer struct {
	commonv1.UnimplementedServiceServer
}

// GetAPIVersion answers the API version this server speaks and the revision it was built from.
func (*commonServer) GetAPIVersion(context.Context, *commonv1.GetAPIVersionRequest) (*commonv1.GetAPIVersionResponse, error) {
	return &commonv1.GetAPIVersionResponse{
		Version: &commonv1.APIVersion{Version: apiversion.Version, Revision: apiversion.Revision},
	}, nil
}
