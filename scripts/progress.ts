/**
 * A one-line progress bar on stderr (redrawn in place on a terminal, a line per 10% otherwise).
 * Returns the update function; call it with done === total to finish the line.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  const started = Date.now();
  let lastTenth = -1;
  return (done, total) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const text = `${label} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${Math.round(ratio * 100)}% ${secs}s`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`);
      if (done >= total) stream.write('\n');
    } else {
      const tenth = Math.floor(ratio * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stream.write(`${text}\n`);
      }
    }
  };
}
