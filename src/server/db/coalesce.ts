type Call<Input, Output> = {
  input: Input;
  resolve: (output: Output) => void;
  reject: (error: unknown) => void;
};

export type CoalescerOptions = {
  /** A batch this large is sent at once, without waiting for the turn to end. */
  maxBatch?: number;
  /** After a failed batch of several calls, run each call alone. */
  isolateFailures?: boolean;
};

/**
 * Folds the calls made during one turn of the event loop into one batched call. A busy server
 * answers many requests per turn, and each asks the database the same kind of question about
 * another subject; one statement for all of them costs the driver, the pool and PostgreSQL about
 * what one of them did, where the per-statement overhead is most of a small read's cost.
 *
 * A call waits at most until the turn's I/O callbacks have run (`setImmediate`): an idle server
 * sends each question as it comes, as before. When a batch fails, each of its calls fails with
 * the batch's error; or, with `isolateFailures`, runs again on its own, so that one call's bad
 * input (a row that breaks a constraint, say) does not fail the others.
 */
export class Coalescer<Input, Output> {
  private pending: Call<Input, Output>[] = [];
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly isolateFailures: boolean;

  /** @param runBatch answers every input, in order (one output per input) */
  constructor(
    private readonly runBatch: (inputs: Input[]) => Promise<Output[]>,
    options: CoalescerOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    this.isolateFailures = options.isolateFailures ?? false;
  }

  run(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (!batch.length) return;
    this.pending = [];
    this.send(batch, this.isolateFailures && batch.length > 1);
  }

  private send(batch: Call<Input, Output>[], isolateFailures: boolean): void {
    let running: Promise<Output[]>;
    try {
      running = this.runBatch(batch.map((call) => call.input));
    } catch (error) {
      running = Promise.reject(error);
    }
    running
      .then((outputs) => {
        if (outputs.length !== batch.length)
          throw new Error(`a batch of ${batch.length} answered ${outputs.length} times`);
        return outputs;
      })
      .then(
        (outputs) => {
          for (const [index, call] of batch.entries()) call.resolve(outputs[index] as Output);
        },
        (error: unknown) => {
          if (isolateFailures) for (const call of batch) this.send([call], false);
          else for (const call of batch) call.reject(error);
        },
      );
  }
}
