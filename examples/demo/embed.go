package demo

import "embed"

// Model holds the demo's Cube model files. fs.Sub(Model, "model") is the model directory,
// with cubes under cubes/ and views under views/, exactly as a user's Cube project lays them
// out.
//
//go:embed model/cubes/*.yml model/views/*.yml
var Model embed.FS
