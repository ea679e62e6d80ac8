// Asking a person at a terminal, for the CLI: a passphrase without echo, a yes/no question.
// Reads the controlling terminal through process.stdin only when it is a TTY; otherwise answers
// null (no prompt possible), so scripts and CI never hang on a question.
import type { ReadStream } from 'node:tty';

/** Reads one line from the TTY without echoing it; null when stdin is not a TTY or on Ctrl-C/Ctrl-D. */
export function promptHidden(question: string, output: NodeJS.WritableStream = process.stderr): Promise<string | null> {
  const input = process.stdin as ReadStream;
  if (!input.isTTY) return Promise.resolve(null);
  return new Promise((resolve) => {
    output.write(question);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.resume();
    let value = '';
    const finish = (answer: string | null): void => {
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      resolve(answer);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(value);
        if (ch === '\u0003' || ch === '\u0004') return finish(null);
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** The CLI's passphrase callback for SshConnectOptions.passphrase. */
export function ttyPassphrase(keyFile: string, attempt: number): Promise<string | null> {
  return promptHidden(
    attempt > 1
      ? `Wrong passphrase. Enter passphrase for key '${keyFile}': `
      : `Enter passphrase for key '${keyFile}': `,
  );
}
