/** The one shape of every error response. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  requestId: string;
  /** Present on validation errors: which fields were wrong and why. */
  fields?: FieldError[];
  /** Present where a check reports more than a message (readiness). */
  details?: Record<string, unknown>;
}

export interface FieldError {
  field: string;
  errors: string[];
}
