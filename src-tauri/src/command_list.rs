// The app's commands, the one list: `src/commands.rs` makes the invoke handler of it, `build.rs`
// the permissions a window can be granted (`capabilities/settings.json` grants them; a test in
// `commands.rs` checks that it grants exactly these).
commands![
    get_settings,
    save_settings,
    get_status,
    list_voices,
    preview_voice,
    stop_speech,
    start_model_download,
    cancel_model_download,
    check_hotkey,
];
