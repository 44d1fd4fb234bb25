/** Stops `esbuild`'s service and waits until its process has exited (see esbuild-service.js). */
export declare function stopEsbuild(esbuild: { stop(): Promise<void> }): Promise<void>;
