export function nop(): void {}
