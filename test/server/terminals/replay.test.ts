import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../../src/contracts/index.ts';
import { ReplayBuffer } from '../../../src/server/terminals/index.ts';

describe('the replay buffer', () => {
  it('gives a client exactly what came after the position it saw', () => {
    const buffer = new ReplayBuffer(1024);
    const afterPrompt = buffer.append('learner@workbench:~$ ');
    buffer.append('k');
    buffer.append('ubectl get pods\r\n');
    expect(buffer.since(afterPrompt)).toEqual({ seq: buffer.seq, data: 'kubectl get pods\r\n', reset: false });
    expect(buffer.since(buffer.seq)).toEqual({ seq: buffer.seq, data: '', reset: false });
  });

  it('gives a client that never saw this shell everything kept, to draw on a cleared screen', () => {
    const buffer = new ReplayBuffer(1024);
    buffer.append('line one\r\n');
    buffer.append('line two\r\n');
    expect(buffer.since(null)).toEqual({ seq: 20, data: 'line one\r\nline two\r\n', reset: true });
  });

  it('keeps at most its capacity, dropping the oldest output first', () => {
    const buffer = new ReplayBuffer(100);
    for (let i = 0; i < 50; i += 1) buffer.append(`${String(i).padStart(4, '0')}\n`);
    expect(buffer.size).toBe(100);
    expect(buffer.seq).toBe(250);
    const catchup = buffer.since(10);
    expect(catchup.reset).toBe(true);
    // The kept output starts on a line boundary, never inside a line.
    expect(catchup.data.startsWith('0031\n')).toBe(true);
    expect(catchup.data.endsWith('0049\n')).toBe(true);
    expect(buffer.since(245)).toEqual({ seq: 250, data: '0049\n', reset: false });
  });

  it('stays bounded under a flood of keystroke-sized pieces and large pieces alike', () => {
    const buffer = new ReplayBuffer(64 * 1024);
    for (let i = 0; i < 200_000; i += 1) buffer.append('x');
    buffer.append('y'.repeat(100_000));
    buffer.append('z');
    expect(buffer.size).toBe(64 * 1024);
    const kept = buffer.since(buffer.seq - 3);
    expect(kept).toEqual({ seq: 300_001, data: 'yyz', reset: false });
  });

  it('treats a position from the future as unknown', () => {
    const buffer = new ReplayBuffer(10);
    buffer.append('abc');
    expect(buffer.since(99)).toEqual({ seq: 3, data: 'abc', reset: true });
  });
});

describe('terminal messages from the browser', () => {
  it('accepts attach, input and resize', () => {
    expect(parseClientMessage('{"type":"attach","cols":80,"rows":24,"shell":"ab12","seq":7}')).toEqual({
      ok: true,
      message: { type: 'attach', cols: 80, rows: 24, shell: 'ab12', seq: 7 },
    });
    expect(parseClientMessage('{"type":"input","data":"ls\\r"}')).toEqual({ ok: true, message: { type: 'input', data: 'ls\r' } });
    expect(parseClientMessage('{"type":"resize","cols":120,"rows":40}')).toEqual({ ok: true, message: { type: 'resize', cols: 120, rows: 40 } });
  });

  it('names what is wrong with a message it refuses', () => {
    expect(parseClientMessage('ls')).toEqual({ ok: false, error: expect.stringContaining('not JSON') });
    expect(parseClientMessage('{"type":"resize","cols":0,"rows":40}')).toEqual({ ok: false, error: expect.stringMatching(/^terminal message: cols: /) });
    expect(parseClientMessage('{"type":"input","data":""}')).toEqual({ ok: false, error: expect.stringMatching(/^terminal message: data: /) });
    expect(parseClientMessage('{"type":"exec","command":"rm"}')).toEqual({ ok: false, error: expect.stringContaining('expected attach') });
    expect(parseClientMessage(JSON.stringify({ type: 'input', data: 'x'.repeat(70_000) }))).toMatchObject({ ok: false });
  });
});
