package agent

// Version is reported as the node's kubelet version and in the API's
// version and OpenAPI documents.
const Version = "shoal/v0.1.0"
