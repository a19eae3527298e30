// Package stages defines what a stage kind is: the schema of its HCL block, the outputs it
// exposes, its version and the function that runs it. The kinds themselves (train, match, …)
// live in package stages/kinds, which registers them in Default; the engine in package
// pipelines turns blocks into calls and imports only this package, so it builds and is
// tested without the numerics.
//
// A stage never reads HCL and never touches the cache. It receives its configuration as a
// wholly known cty object (attributes converted to their declared types, defaults applied,
// nested blocks decoded), opens its input artifacts through Input.Read and returns bytes and
// values; the engine hashes, compresses and stores them. That split keeps every influence on a
// result visible to the engine, which is what makes the cache key complete.
package stages
