"""Capture's background job: the workers that run queued captures
(:class:`.worker.CaptureWorker`, one attempt at a job: :class:`.attempt.CaptureAttempt`)."""
