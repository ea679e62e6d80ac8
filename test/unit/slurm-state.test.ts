// Slurm state mapping and the parsers of sbatch/sacct/squeue/scontrol output. The squeue and scontrol
// fixtures are real output of Slurm 22.05.8 (test/infra/start.sh WITH_SLURM=1), trimmed after
// `Partition=`; the sacct fixture follows sacct(1) --parsable2 (accounting is off in the test Slurm).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePollOutput } from '../../src/run/slurm/poll';
import {
  expandTaskIds,
  mapSlurmState,
  mergeTaskStatuses,
  parseSacct,
  parseSbatchParsable,
  parseScontrol,
  parseSqueue,
  sacctUnavailable,
  SLURM_STATE_NAMES,
  type SlurmPhase,
} from '../../src/run/slurm/state';

const EXPECTED: Record<string, { phase: SlurmPhase; terminal: boolean; short: string }> = {
  PENDING: { phase: 'pending', terminal: false, short: 'PD' },
  CONFIGURING: { phase: 'pending', terminal: false, short: 'CF' },
  REQUEUED: { phase: 'pending', terminal: false, short: 'RQ' },
  REQUEUE_HOLD: { phase: 'pending', terminal: false, short: 'RH' },
  REQUEUE_FED: { phase: 'pending', terminal: false, short: 'RF' },
  RESV_DEL_HOLD: { phase: 'pending', terminal: false, short: 'RD' },
  RESIZING: { phase: 'pending', terminal: false, short: 'RS' },
  RUNNING: { phase: 'running', terminal: false, short: 'R' },
  COMPLETING: { phase: 'running', terminal: false, short: 'CG' },
  SIGNALING: { phase: 'running', terminal: false, short: 'SI' },
  STAGE_OUT: { phase: 'running', terminal: false, short: 'SO' },
  SUSPENDED: { phase: 'running', terminal: false, short: 'S' },
  STOPPED: { phase: 'running', terminal: false, short: 'ST' },
  COMPLETED: { phase: 'completed', terminal: true, short: 'CD' },
  FAILED: { phase: 'failed', terminal: true, short: 'F' },
  CANCELLED: { phase: 'cancelled', terminal: true, short: 'CA' },
  TIMEOUT: { phase: 'failed', terminal: true, short: 'TO' },
  OUT_OF_MEMORY: { phase: 'failed', terminal: true, short: 'OOM' },
  NODE_FAIL: { phase: 'failed', terminal: true, short: 'NF' },
  PREEMPTED: { phase: 'failed', terminal: true, short: 'PR' },
  BOOT_FAIL: { phase: 'failed', terminal: true, short: 'BF' },
  DEADLINE: { phase: 'failed', terminal: true, short: 'DL' },
  REVOKED: { phase: 'cancelled', terminal: true, short: 'RV' },
  SPECIAL_EXIT: { phase: 'failed', terminal: true, short: 'SE' },
};

describe('mapSlurmState', () => {
  it('knows every state name, long and short', () => {
    assert.deepEqual([...SLURM_STATE_NAMES].sort(), Object.keys(EXPECTED).sort());
    for (const [name, want] of Object.entries(EXPECTED)) {
      for (const text of [name, want.short, name.toLowerCase(), ` ${name} `]) {
        const got = mapSlurmState(text);
        assert.equal(got.name, name, text);
        assert.equal(got.phase, want.phase, text);
        assert.equal(got.terminal, want.terminal, text);
        assert.ok(got.describe.length > 0);
      }
    }
  });

  it('reads "CANCELLED by N" and sacct\'s "+" suffix', () => {
    assert.deepEqual({ ...mapSlurmState('CANCELLED by 1001') }, { ...mapSlurmState('CANCELLED') });
    assert.equal(mapSlurmState('CANCELLED by 0').phase, 'cancelled');
    assert.equal(mapSlurmState('RUNNING+').name, 'RUNNING');
  });

  it('treats an unknown state as still going, never as an ending', () => {
    const s = mapSlurmState('SOMETHING_NEW');
    assert.equal(s.terminal, false);
    assert.equal(s.name, 'SOMETHING_NEW');
    assert.equal(mapSlurmState('').terminal, false);
  });
});

describe('array task ids', () => {
  it('expands ranges, lists, steps and throttles', () => {
    assert.deepEqual(expandTaskIds('3'), [3]);
    assert.deepEqual(expandTaskIds('0-4'), [0, 1, 2, 3, 4]);
    assert.deepEqual(expandTaskIds('1-2%1'), [1, 2]);
    assert.deepEqual(expandTaskIds('[2-3%2]'), [2, 3]);
    assert.deepEqual(expandTaskIds('0,2,5-6'), [0, 2, 5, 6]);
    assert.deepEqual(expandTaskIds('1-7:3'), [1, 4, 7]);
    assert.equal(expandTaskIds('x'), null);
    assert.equal(expandTaskIds('5-1'), null);
    assert.equal(expandTaskIds(''), null);
  });
});

describe('sbatch --parsable', () => {
  it('reads "jobid" and "jobid;cluster"', () => {
    assert.deepEqual(parseSbatchParsable('1234\n'), { jobId: '1234', cluster: null });
    assert.deepEqual(parseSbatchParsable('1234;gh200\n'), { jobId: '1234', cluster: 'gh200' });
    assert.deepEqual(parseSbatchParsable('sbatch: warning: something\n77\n'), { jobId: '77', cluster: null });
    assert.equal(parseSbatchParsable(''), null);
    assert.equal(parseSbatchParsable('Submitted batch job 12\n'), null);
  });
});

// Real `squeue -j 2 -h -r -o '%i|%T|%r'` while an array of 4 ran with %2, and without -r.
const SQUEUE_R = `2_2|PENDING|JobArrayTaskLimit
2_3|PENDING|JobArrayTaskLimit
2_1|RUNNING|None
2_0|RUNNING|None
`;
const SQUEUE_COLLAPSED = `2_[2-3%2]|PENDING|JobArrayTaskLimit
2_1|RUNNING|None
2_0|RUNNING|None
`;
// Real `scontrol show job -o`: an array after tasks completed / failed (exit 3), a TIMEOUT, and a
// cancelled array whose pending tasks are one record.
const SCONTROL_DONE = `JobId=2 ArrayJobId=2 ArrayTaskId=3 ArrayTaskThrottle=2 JobName=j.sh UserId=elptest(1001) GroupId=elptest(1001) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-26T07:20:05 EligibleTime=2026-11-26T07:20:10 AccrueTime=2026-11-26T07:20:06 StartTime=2026-11-26T07:20:10 EndTime=2026-11-26T07:20:13 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-26T07:20:10 Scheduler=Main Partition=debug
JobId=5 ArrayJobId=2 ArrayTaskId=2 ArrayTaskThrottle=2 JobName=j.sh UserId=elptest(1001) GroupId=elptest(1001) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-26T07:20:05 EligibleTime=2026-11-26T07:20:10 AccrueTime=2026-11-26T07:20:06 StartTime=2026-11-26T07:20:10 EndTime=2026-11-26T07:20:13 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-26T07:20:10 Scheduler=Main Partition=debug
JobId=4 ArrayJobId=2 ArrayTaskId=1 ArrayTaskThrottle=2 JobName=j.sh UserId=elptest(1001) GroupId=elptest(1001) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A Partition=debug
JobId=3 ArrayJobId=2 ArrayTaskId=0 ArrayTaskThrottle=2 JobName=j.sh UserId=elptest(1001) GroupId=elptest(1001) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A Partition=debug
`;
const SCONTROL_TIMEOUT = `JobId=6 ArrayJobId=6 ArrayTaskId=0 JobName=s.sh UserId=elptest(1001) GroupId=elptest(1001) MCS_label=N/A Priority=4294901757 Nice=0 Account=(null) QOS=(null) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:01:04 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-11-26T07:20:24 EligibleTime=2026-11-26T07:20:24 AccrueTime=Unknown StartTime=2026-11-26T07:20:24 EndTime=2026-11-26T07:21:28 Deadline=N/A Partition=debug
`;
const SCONTROL_CANCELLED = `JobId=7 ArrayJobId=7 ArrayTaskId=1-2%1 ArrayTaskThrottle=1 JobName=s.sh UserId=elptest(1001) GroupId=elptest(1001) MCS_label=N/A Priority=4294901756 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=JobArrayTaskLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED Partition=debug
JobId=8 ArrayJobId=7 ArrayTaskId=0 ArrayTaskThrottle=1 JobName=s.sh UserId=elptest(1001) GroupId=elptest(1001) MCS_label=N/A Priority=4294901756 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:00:00 TimeLimit=UNLIMITED Partition=debug
`;
// sacct(1) --parsable2 --noheader --format=JobID,State,ExitCode,Reason for an array of 6 tasks.
const SACCT = `41_0|COMPLETED|0:0|None
41_0.batch|COMPLETED|0:0|
41_0.extern|COMPLETED|0:0|
41_1|TIMEOUT|0:0|None
41_1.batch|CANCELLED|0:15|
41_2|OUT_OF_MEMORY|0:125|None
41_3|CANCELLED by 1001|0:0|None
41_4|NODE_FAIL|1:0|None
41_[5-6%2]|PENDING|0:0|Priority
410_0|FAILED|1:0|None
`;

describe('parsers', () => {
  it('squeue -r and collapsed pending ranges', () => {
    const rows = parseSqueue(SQUEUE_R, '2');
    assert.deepEqual(rows.map((r) => [r.task, r.state.name, r.reason]).sort(), [
      [0, 'RUNNING', null],
      [1, 'RUNNING', null],
      [2, 'PENDING', 'JobArrayTaskLimit'],
      [3, 'PENDING', 'JobArrayTaskLimit'],
    ]);
    const collapsed = parseSqueue(SQUEUE_COLLAPSED, '2');
    assert.deepEqual(collapsed.map((r) => r.task).sort(), [0, 1, 2, 3]);
    assert.deepEqual(parseSqueue(SQUEUE_R, '20'), []);
    assert.deepEqual(parseSqueue('slurm_load_jobs error: Invalid job id specified\n', '2'), []);
  });

  it('scontrol show job -o: completed, failed with exit code, timeout, cancelled pending range', () => {
    const done = new Map(parseScontrol(SCONTROL_DONE, '2').map((r) => [r.task, r]));
    assert.equal(done.size, 4);
    assert.equal(done.get(2)?.state.name, 'FAILED');
    assert.equal(done.get(2)?.exitCode, '3:0');
    assert.equal(done.get(2)?.reason, 'NonZeroExitCode');
    assert.equal(done.get(3)?.state.name, 'COMPLETED');
    assert.equal(done.get(3)?.reason, null);
    const to = parseScontrol(SCONTROL_TIMEOUT, '6');
    assert.equal(to.length, 1);
    assert.equal(to[0].state.name, 'TIMEOUT');
    assert.equal(to[0].reason, 'TimeLimit');
    const ca = parseScontrol(SCONTROL_CANCELLED, '7');
    assert.deepEqual(ca.map((r) => [r.task, r.state.phase]).sort(), [
      [0, 'cancelled'],
      [1, 'cancelled'],
      [2, 'cancelled'],
    ]);
    assert.deepEqual(parseScontrol(SCONTROL_CANCELLED, '8'), [], 'a task id is not the array id');
  });

  it('scontrol multi-line records', () => {
    const multi = `JobId=9 ArrayJobId=9 ArrayTaskId=0 JobName=x\n   UserId=a(1) GroupId=a(1)\n   JobState=RUNNING Reason=None Dependency=(null)\n   ExitCode=0:0\n\nJobId=10 ArrayJobId=9 ArrayTaskId=1 JobName=x\n   JobState=PREEMPTED Reason=None\n`;
    const rows = parseScontrol(multi, '9');
    assert.deepEqual(
      rows.map((r) => [r.task, r.state.name]),
      [
        [0, 'RUNNING'],
        [1, 'PREEMPTED'],
      ],
    );
  });

  it('sacct: tasks only (no steps, no other job), "CANCELLED by N", pending range', () => {
    const rows = new Map(parseSacct(SACCT, '41').map((r) => [r.task, r]));
    assert.deepEqual([...rows.keys()].sort(), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(rows.get(1)?.state.name, 'TIMEOUT');
    assert.equal(rows.get(2)?.state.name, 'OUT_OF_MEMORY');
    assert.equal(rows.get(3)?.raw, 'CANCELLED by 1001');
    assert.equal(rows.get(3)?.state.phase, 'cancelled');
    assert.equal(rows.get(4)?.exitCode, '1:0');
    assert.equal(rows.get(5)?.reason, 'Priority');
    assert.equal(sacctUnavailable('Slurm accounting storage is disabled\n'), true);
    assert.equal(
      sacctUnavailable('sacct: error: slurm_persist_conn_open_without_init: failed to open persistent connection'),
      false,
    );
  });

  it('merge: the controller wins over accounting', () => {
    const merged = mergeTaskStatuses(
      parseSacct('5_0|PENDING|0:0|Priority\n5_1|COMPLETED|0:0|None\n', '5'),
      parseSqueue('5_0|RUNNING|None\n', '5'),
    );
    assert.equal(merged.get(0)?.state.name, 'RUNNING');
    assert.equal(merged.get(1)?.state.name, 'COMPLETED');
  });

  it('poll output: run folders, sections, accounting off, controller answer', () => {
    const text = `@@run 0 1 812\n@@run 1 0 0\n@@sacct 1\nSlurm accounting storage is disabled\n@@squeue 0\n\n@@scontrol 0\n${SCONTROL_TIMEOUT}`;
    const p = parsePollOutput(text, '6');
    assert.deepEqual(p.runs.get(0), { index: 0, exitExists: true, eventsBytes: 812 });
    assert.deepEqual(p.runs.get(1), { index: 1, exitExists: false, eventsBytes: 0 });
    assert.equal(p.sacctUnavailable, true);
    assert.equal(p.tasks.get(0)?.state.name, 'TIMEOUT');
    assert.equal(p.controllerAnswered, true);
    const gone = parsePollOutput(
      '@@squeue 1\nslurm_load_jobs error: Invalid job id specified\n@@scontrol 1\nslurm_load_jobs error: Invalid job id specified\n',
      '6',
    );
    assert.equal(gone.tasks.size, 0);
    assert.equal(gone.controllerAnswered, true);
    const down = parsePollOutput(
      '@@squeue 1\nslurm_load_jobs error: Unable to contact slurm controller (connect failure)\n@@scontrol 1\nslurm_load_jobs error: Unable to contact slurm controller (connect failure)\n',
      '6',
    );
    assert.equal(down.controllerAnswered, false);
  });
});
