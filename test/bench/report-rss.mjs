// Preloaded (`node --import`) into a measured CLI process by the sync benchmark: at exit, prints the process's
// peak RSS (getrusage maxrss) as one JSON line on stderr.
process.on('exit', () => {
  process.stderr.write(`${JSON.stringify({ benchPeakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
});
