/** Largest model or weight file actmax reads (bytes): larger ones are refused before reading. */
export const MAX_MODEL_FILE_BYTES = 1 << 30;
