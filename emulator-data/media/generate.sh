#!/bin/sh
# Regenerates the demo media in this directory. Needs ffmpeg (with libx264 and libvpx);
# nothing else in the project does: the generated files are committed, CI and `npm start`
# only read them. Run from anywhere: sh emulator-data/media/generate.sh
set -eu
cd "$(dirname "$0")"
mkdir -p clips thumbnails source misc

FF="ffmpeg -hide_banner -loglevel error -y"
# H.264, no audio, small and widely playable (yuv420p, baseline-ish, moov atom first).
H264="-c:v libx264 -preset veryslow -crf 32 -pix_fmt yuv420p -profile:v high -movflags +faststart -an"

# vertical 96x170: test pattern with a moving gradient, 2 s
$FF -f lavfi -i "testsrc2=size=96x170:rate=12:duration=2" $H264 clips/vertical-testsrc.mp4
# vertical 96x170: SMPTE colour bars with a drifting hue, 1.5 s
$FF -f lavfi -i "smptebars=size=96x170:rate=12:duration=1.5" -vf "hue=h=t*120" $H264 clips/vertical-bars.mp4
# square 96x96: Mandelbrot zoom, 2 s
$FF -f lavfi -i "mandelbrot=size=96x96:rate=12" -t 2 $H264 clips/square-mandelbrot.mp4
# square 96x96: red/green/blue test pattern rotating, 1 s
$FF -f lavfi -i "rgbtestsrc=size=96x96:rate=12:duration=1" -vf "rotate=a=t*PI" $H264 clips/square-rgb.mp4
# split screen 96x170: two sources stacked (top: test pattern, bottom: game of life), 2 s
$FF -f lavfi -i "testsrc=size=96x84:rate=12:duration=2" \
    -f lavfi -i "life=size=96x86:rate=12:mold=10:r=12:ratio=0.1:death_color=#202060:life_color=#ffcc00,trim=duration=2" \
    -filter_complex "[0:v][1:v]vstack=inputs=2" $H264 clips/split-testsrc-life.mp4
# square 96x96 in a QuickTime container (H.264 in .mov): cellular automaton, 1.5 s
$FF -f lavfi -i "cellauto=size=96x96:rate=12:rule=110,trim=duration=1.5,format=yuv420p" $H264 -f mov clips/square-cellauto.mov
# vertical 96x170 WebM (VP9): green/purple gradients, 2 s
$FF -f lavfi -i "gradients=size=96x170:rate=12:duration=2:c0=#00a050:c1=#6020a0:speed=0.05" \
    -c:v libvpx-vp9 -b:v 0 -crf 40 -deadline good -cpu-used 2 -pix_fmt yuv420p -an clips/vertical-gradients.webm
# the "original upload" of the legacy videos: 4 s vertical test pattern with a 440 Hz tone
$FF -f lavfi -i "testsrc2=size=96x170:rate=12:duration=4" -f lavfi -i "sine=frequency=440:duration=4:sample_rate=22050" \
    -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p -movflags +faststart -c:a aac -b:a 12k -ac 1 source/original-testsrc.mp4

# thumbnails: one JPEG per clip look (middle frame), kept under 5 KB
for f in vertical-testsrc vertical-bars square-mandelbrot square-rgb split-testsrc-life; do
  $FF -ss 0.5 -i clips/$f.mp4 -frames:v 1 -q:v 6 thumbnails/$f.jpg
done
$FF -ss 0.5 -i clips/square-cellauto.mov -frames:v 1 -q:v 12 thumbnails/square-cellauto.jpg
$FF -ss 0.5 -i clips/vertical-gradients.webm -frames:v 1 -q:v 6 thumbnails/vertical-gradients.jpg

# a partial upload (what the old worker left as `….mp4.part`): the first 1500 bytes of a clip
head -c 1500 clips/vertical-bars.mp4 > misc/vertical-bars.mp4.part
# a Finder `.DS_Store` look-alike: the "Bud1" buddy-allocator header, then zeros
{ printf '\000\000\000\001Bud1\000\000\020\000'; head -c 500 /dev/zero; } > misc/DS_Store.bin

ls -l clips thumbnails source misc
